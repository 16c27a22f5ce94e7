import type { DeadLetter } from '../application/dead-letters';

/** The batch a stream poller gave up on, as AWS describes it: no records, only where they are in the stream. */
export interface StreamBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  /** ISO 8601. */
  readonly approximateArrivalOfFirstRecord?: string;
  readonly approximateArrivalOfLastRecord?: string;
  readonly batchSize: number;
  readonly streamArn: string;
}

export type FailureCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded' | 'TargetInvocationFailed';

/**
 * A dead letter for a batch given up on, shaped as Lambda's on-failure destination record for stream sources
 * ("Retain discarded batch records for a Kinesis Data Streams / DynamoDB event source in Lambda", Lambda developer
 * guide): requestContext (condition, approximateInvokeCount), timestamp, and KinesisBatchInfo / DDBStreamBatchInfo
 * with the shard and sequence range. The records themselves are NOT in it (only an S3 destination gets them); an
 * operator reads them from the stream by the range, or backfills from the event store.
 */
export function batchDeadLetter(options: {
  readonly source: string;
  readonly reason: string;
  readonly condition: FailureCondition;
  readonly approximateInvokeCount: number;
  readonly stream: 'kinesis' | 'dynamodb';
  readonly batch: StreamBatchInfo;
  readonly functionName?: string;
  readonly now?: Date;
}): DeadLetter {
  const timestamp = (options.now ?? new Date()).toISOString();
  const infoKey = options.stream === 'kinesis' ? 'KinesisBatchInfo' : 'DDBStreamBatchInfo';
  return {
    source: options.source,
    reason: options.reason,
    failedAt: timestamp,
    ids: { ...options.batch },
    payload: {
      requestContext: {
        condition: options.condition,
        approximateInvokeCount: options.approximateInvokeCount,
        ...(options.functionName ? { functionName: options.functionName } : {}),
      },
      responseContext: { reason: options.reason },
      version: '1.0',
      timestamp,
      [infoKey]: options.batch,
    },
  };
}

export function isoOrUndefined(epochMs: number | undefined): string | undefined {
  return epochMs === undefined ? undefined : new Date(epochMs).toISOString();
}
