import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../adapters/aws-clients';
import { EventEnvelope } from '../../domain/events';
import { testStack } from './local-stack';

export interface KinesisEvent {
  readonly envelope: EventEnvelope;
  readonly partitionKey: string;
  readonly shardId: string;
  readonly arrivedAt: Date;
}

/** Every record of the local events stream, read from TRIM_HORIZON on every shard, in order per shard. */
export async function readAllKinesisEvents(kinesis: KinesisClient = kinesisClient()): Promise<KinesisEvent[]> {
  const streamName = testStack().resources.eventsStream;
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  const events: KinesisEvent[] = [];
  for (const shard of Shards ?? []) {
    let { ShardIterator: iterator } = await kinesis.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (iterator) {
      const result = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of result.Records ?? []) {
        events.push({
          envelope: EventEnvelope.parse(JSON.parse(Buffer.from(record.Data!).toString('utf8'))),
          partitionKey: record.PartitionKey!,
          shardId: shard.ShardId!,
          arrivedAt: record.ApproximateArrivalTimestamp!,
        });
      }
      if ((result.Records ?? []).length === 0) break;
      iterator = result.NextShardIterator;
    }
  }
  return events;
}

/** Polls Kinesis until `done` holds for what it has read, or fails with the last reading after the deadline (generous: a busy machine). */
export async function waitForKinesisEvents(done: (events: KinesisEvent[]) => boolean, timeoutMs = 60_000): Promise<KinesisEvent[]> {
  const kinesis = kinesisClient();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await readAllKinesisEvents(kinesis);
    if (done(events)) return events;
    if (Date.now() > deadline) throw new Error(`Kinesis did not reach the expected state within ${timeoutMs} ms (${events.length} records read)`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Each cart's events, deduplicated by eventId (delivery is at least once), in stream order. */
export function eventsByCart(events: readonly KinesisEvent[], cartIds?: ReadonlySet<string>): Map<string, EventEnvelope[]> {
  const seen = new Set<string>();
  const carts = new Map<string, EventEnvelope[]>();
  for (const { envelope } of events) {
    if (cartIds && !cartIds.has(envelope.aggregateId)) continue;
    if (seen.has(envelope.eventId)) continue;
    seen.add(envelope.eventId);
    carts.set(envelope.aggregateId, [...(carts.get(envelope.aggregateId) ?? []), envelope]);
  }
  return carts;
}
