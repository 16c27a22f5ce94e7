import type { StoreLayout } from '../../domain/cdc/store-layout';

/**
 * The CDC Pipe's settings, in one place for both runtimes: infra/ builds the CfnPipe from them and the local Pipe
 * runner (local/pipe/) behaves by them. Names follow the CloudFormation properties they become.
 */
export interface CdcPipeSettings {
  /** SourceParameters.DynamoDBStreamParameters */
  readonly source: {
    readonly BatchSize: number;
    readonly MaximumBatchingWindowInSeconds: number;
    readonly MaximumRetryAttempts: number;
    readonly MaximumRecordAgeInSeconds: number;
    readonly OnPartialBatchItemFailure: 'AUTOMATIC_BISECT';
    readonly StartingPosition: 'TRIM_HORIZON';
  };
  /** SourceParameters.FilterCriteria.Filters[].Pattern, as objects: JSON.stringify each for CloudFormation. */
  readonly filterPatterns: readonly Readonly<Record<string, unknown>>[];
  /** TargetParameters.KinesisStreamParameters.PartitionKey, evaluated on each envelope the enrichment returns. */
  readonly partitionKey: '$.aggregateId';
}

/**
 * At most 500 envelopes per enrichment response (a Kinesis target gets one PutRecords per batch, and PutRecords
 * takes 500 records). In the event-per-item layout a record carries at most one event, so 500 records can never
 * exceed it. In the aggregate-item layout one record can carry many events (a command that appends several, a
 * first write of a whole history), so the batch is smaller and the enrichment enforces the limit itself (see
 * output-limits.ts).
 */
const BATCH_SIZE: Record<StoreLayout, number> = { 'event-per-item': 500, 'aggregate-item': 50 };

/**
 * Only changes that can add events reach the enrichment (which is billed per invocation). The event store never
 * updates an event item, so in its layout only INSERTs matter; a REMOVE (a deleted item, a TTL expiry) adds nothing.
 */
const CHANGES_THAT_ADD_EVENTS: Record<StoreLayout, readonly string[]> = {
  'event-per-item': ['INSERT'],
  'aggregate-item': ['INSERT', 'MODIFY'],
};

/** DynamoDB Streams keeps a record 24 hours (fixed by AWS); the Pipe must give up on a record well before. */
export const DYNAMODB_STREAM_RETENTION_SECONDS = 24 * 60 * 60;

export function cdcPipeSettings(layout: StoreLayout): CdcPipeSettings {
  return {
    source: {
      BatchSize: BATCH_SIZE[layout],
      // Waits up to a second to fill a batch: fewer, fuller invocations, while an event still reaches Kinesis
      // within about a second of its command.
      MaximumBatchingWindowInSeconds: 1,
      // The defaults are infinite: one poison batch would block its shard until the stream trims it (24 h).
      // Ten retries, halving the batch each time (AUTOMATIC_BISECT), corner a bad record in a batch of 500.
      MaximumRetryAttempts: 10,
      // Pipes retries internal errors until the record leaves the source. The stream keeps records 24 h
      // (DYNAMODB_STREAM_RETENTION_SECONDS); giving up at 6 h sends the record to the dead-letter queue while the
      // stream still holds it for another 18 h, time to read it again from the shard and sequence number the
      // dead letter names (a limit equal to the retention would let the trim win the race: the record vanishes).
      MaximumRecordAgeInSeconds: 6 * 60 * 60,
      OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
      // From the oldest record the stream still has: events written before the Pipe existed are published too.
      StartingPosition: 'TRIM_HORIZON',
    },
    filterPatterns: [{ eventName: [...CHANGES_THAT_ADD_EVENTS[layout]] }],
    partitionKey: '$.aggregateId',
  };
}
