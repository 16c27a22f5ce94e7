import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { kinesisClient, s3Client } from '../../adapters/aws-clients';
import type { EventEnvelope } from '../../domain/events';
import { KINESIS_CONSUMERS } from '../../lambdas/consumers';
import { readChaosCounts, type ChaosCounts } from '../../local/chaos/chaos';
import { localEventLogLines } from '../../local/verify/local-pipeline-probe';
import { testStack } from './local-stack';

/**
 * Polls until `check` returns a value (not undefined), or fails with the last value seen at the deadline. The default
 * deadline is for the live pipeline on two busy cores (chaos retries and backoff included); it costs nothing when the
 * value shows up sooner.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Puts envelopes straight into the stream, as the Pipe would: Data = JSON, PartitionKey = aggregateId. */
export async function putEnvelopes(envelopes: readonly EventEnvelope[]): Promise<void> {
  const kinesis = kinesisClient();
  for (let i = 0; i < envelopes.length; i += 500) {
    let batch = envelopes.slice(i, i + 500);
    while (batch.length > 0) {
      const result = await kinesis.send(
        new PutRecordsCommand({
          StreamName: testStack().resources.eventsStream,
          Records: batch.map((e) => ({ Data: Buffer.from(JSON.stringify(e)), PartitionKey: e.aggregateId })),
        }),
      );
      batch = batch.filter((_, index) => result.Records?.[index]?.ErrorCode);
    }
  }
}

/** Every line of every archive object, with the key it is in. */
export async function archivedLines(): Promise<{ key: string; envelope: EventEnvelope }[]> {
  const s3 = s3Client();
  const bucket = testStack().resources.archiveBucket;
  const lines: { key: string; envelope: EventEnvelope }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'events/', ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: object.Key! }))).Body!.transformToString('utf8');
      if (!body.endsWith('\n')) throw new Error(`archive object ${object.Key} does not end with a newline`);
      for (const line of body.split('\n').filter(Boolean)) {
        // Firehose archives whatever reached the stream: lines that are not event envelopes are skipped here.
        const envelope = parseEnvelope(line);
        if (envelope) lines.push({ key: object.Key!, envelope });
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return lines;
}

/** Every line the event log wrote ("cart event"), in the order written, from the consumers' output file. */
export function eventLogLines(): { eventId: string; aggregateId: string; version: number }[] {
  return localEventLogLines(testStack().dataDir);
}

/** What the stack's stand-ins injected so far, per fault (local/chaos). */
export function injectedFaults(): ChaosCounts {
  return readChaosCounts(testStack().dataDir);
}

function parseEnvelope(line: string): EventEnvelope | undefined {
  try {
    const json = JSON.parse(line) as EventEnvelope;
    return json && typeof json === 'object' && typeof json.eventId === 'string' && typeof json.aggregateId === 'string' ? json : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Waits until every reader of the stream (each consumer's mapping and the archiver) has checkpointed past the last
 * record the stream holds now: only then can a late duplicate no longer show, so assertions about "exactly once"
 * made after it mean something.
 */
export async function awaitStreamReadersCaughtUp(timeoutMs = 60_000): Promise<void> {
  const kinesis = kinesisClient();
  const StreamName = testStack().resources.eventsStream;
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName }));
  const last = new Map<string, string>();
  for (const shard of Shards) {
    let { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (ShardIterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
      const records = page.Records ?? [];
      if (records.length > 0) last.set(shard.ShardId!, records.at(-1)!.SequenceNumber!);
      if (records.length === 0 || page.MillisBehindLatest === 0) break;
      ShardIterator = page.NextShardIterator;
    }
  }
  const { dataDir } = testStack();
  const positionFiles = [
    ...Object.keys(KINESIS_CONSUMERS).map((name) => join(dataDir, 'kinesis-consumers', `${name}.json`)),
    join(dataDir, 'archiver', 'positions.json'),
  ];
  await eventually(
    'every stream reader checkpointed past the end of the stream',
    async () => {
      for (const file of positionFiles) {
        const positions = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { sequenceNumber?: string }>;
        for (const [shardId, sequenceNumber] of last) {
          const at = positions[shardId]?.sequenceNumber;
          if (!at || BigInt(at) < BigInt(sequenceNumber)) return undefined;
        }
      }
      return true;
    },
    timeoutMs,
  );
}
