import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient, type _Record } from '@aws-sdk/client-dynamodb-streams';

export interface ShardInfo {
  readonly shardId: string;
  readonly parentShardId?: string;
}

export async function streamArnOf(dynamodb: DynamoDBClient, tableName: string): Promise<string> {
  const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
  if (!Table?.LatestStreamArn) throw new Error(`table ${tableName} has no stream: the CDC Pipe needs StreamSpecification NEW_AND_OLD_IMAGES`);
  return Table.LatestStreamArn;
}

/** Every shard the stream still has, open and closed (DynamoDB Local rolls shards as AWS does). */
export async function listShards(streams: DynamoDBStreamsClient, streamArn: string, signal?: AbortSignal): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  let start: string | undefined;
  do {
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }), { abortSignal: signal });
    for (const shard of StreamDescription?.Shards ?? []) {
      if (shard.ShardId) shards.push({ shardId: shard.ShardId, ...(shard.ParentShardId ? { parentShardId: shard.ParentShardId } : {}) });
    }
    start = StreamDescription?.LastEvaluatedShardId;
  } while (start);
  return shards;
}

/** Empty pages in a row after which an open shard is taken to hold nothing more of the range. */
const EMPTY_PAGES_BEFORE_GIVING_UP = 5;

/**
 * The records of a shard from `start` through `end` (sequence numbers, both included), in stream order: a
 * GetShardIterator AT_SEQUENCE_NUMBER, then GetRecords until a record at or past `end`, the shard's end, or a few
 * empty pages. Throws the service's own errors: TrimmedDataAccessException when `start` is past the stream's
 * retention (DynamoDB Streams keeps records 24 hours), ResourceNotFoundException when the shard is gone.
 */
export async function streamRecordsBetween(streams: DynamoDBStreamsClient, streamArn: string, shardId: string, start: string, end: string): Promise<_Record[]> {
  const last = BigInt(end);
  const records: _Record[] = [];
  let { ShardIterator: iterator } = await streams.send(
    new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: start }),
  );
  let emptyPages = 0;
  while (iterator && emptyPages < EMPTY_PAGES_BEFORE_GIVING_UP) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }));
    for (const record of page.Records ?? []) {
      const sequence = BigInt(record.dynamodb?.SequenceNumber ?? '0');
      if (sequence > last) return records;
      records.push(record);
      if (sequence === last) return records;
    }
    emptyPages = (page.Records ?? []).length === 0 ? emptyPages + 1 : 0;
    iterator = page.NextShardIterator;
  }
  return records;
}

/**
 * A record as a Pipe hands it on: the JSON of the stream record plus the stream's ARN, with
 * ApproximateCreationDateTime in epoch seconds and binary values in base64, as on the wire.
 */
export function toPipeRecord(record: _Record, streamArn: string): Record<string, unknown> {
  const approximate = record.dynamodb?.ApproximateCreationDateTime;
  const json = JSON.stringify({ ...record, eventSourceARN: streamArn }, function (this: Record<string, unknown>, key, value) {
    const original = this[key];
    if (original instanceof Uint8Array) return Buffer.from(original).toString('base64');
    return value as unknown;
  });
  const pipeRecord = JSON.parse(json) as { dynamodb?: Record<string, unknown> };
  if (pipeRecord.dynamodb && approximate instanceof Date) pipeRecord.dynamodb.ApproximateCreationDateTime = approximate.getTime() / 1000;
  return pipeRecord as Record<string, unknown>;
}
