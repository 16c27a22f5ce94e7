import { isDeepStrictEqual } from 'node:util';
import { GetShardIteratorCommand, GetRecordsCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { dynamoDbDocumentClient, kinesisClient, s3Client } from '../../../adapters/aws-clients';
import { DynamoDbEventStore } from '../../../adapters/dynamodb/event-store';
import { toCartEvents } from '../../../application/cart-commands';
import { fold } from '../../../domain/cart';
import type { EventEnvelope } from '../../../domain/events';
import { api, testStack } from '../../support/local-stack';

/** What the pipeline holds for a set of carts, against the event store (the source of truth). */
export interface PipelineAudit {
  readonly storedEvents: number;
  readonly missingFromKinesis: string[];
  readonly missingFromArchive: string[];
  readonly archiveDuplicates: number;
  readonly kinesisVersionGaps: string[];
  readonly projectionMismatches: string[];
}

export function isConverged(audit: PipelineAudit): boolean {
  return (
    audit.missingFromKinesis.length === 0 &&
    audit.missingFromArchive.length === 0 &&
    audit.kinesisVersionGaps.length === 0 &&
    audit.projectionMismatches.length === 0
  );
}

export async function readWholeStream(): Promise<EventEnvelope[]> {
  const kinesis = kinesisClient();
  const StreamName = testStack().resources.eventsStream;
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName }));
  const events: EventEnvelope[] = [];
  for (const shard of Shards) {
    let { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }));
    while (ShardIterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) events.push(JSON.parse(Buffer.from(record.Data!).toString('utf8')) as EventEnvelope);
      if ((page.Records ?? []).length === 0 || page.MillisBehindLatest === 0) break;
      ShardIterator = page.NextShardIterator;
    }
  }
  return events;
}

export async function readWholeArchive(): Promise<EventEnvelope[]> {
  const s3 = s3Client();
  const Bucket = testStack().resources.archiveBucket;
  const events: EventEnvelope[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'events/', ContinuationToken }));
    for (const object of page.Contents ?? []) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket, Key: object.Key }))).Body!.transformToString();
      for (const line of body.split('\n')) if (line.trim()) events.push(JSON.parse(line) as EventEnvelope);
    }
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return events;
}

export async function auditPipeline(cartIds: readonly string[]): Promise<PipelineAudit> {
  const store = new DynamoDbEventStore(dynamoDbDocumentClient(), testStack().resources.eventStoreTable);
  const [streamEvents, archiveEvents] = await Promise.all([readWholeStream(), readWholeArchive()]);
  const inKinesis = new Set(streamEvents.map((e) => e.eventId));
  const archiveCounts = new Map<string, number>();
  for (const event of archiveEvents) archiveCounts.set(event.eventId, (archiveCounts.get(event.eventId) ?? 0) + 1);

  const audit: PipelineAudit = {
    storedEvents: 0,
    missingFromKinesis: [],
    missingFromArchive: [],
    archiveDuplicates: 0,
    kinesisVersionGaps: [],
    projectionMismatches: [],
  };
  for (const cartId of cartIds) {
    const stream = await store.readStream(cartId);
    (audit as { storedEvents: number }).storedEvents += stream.events.length;
    for (const event of stream.events) {
      if (!inKinesis.has(event.eventId)) audit.missingFromKinesis.push(event.eventId);
      const archived = archiveCounts.get(event.eventId) ?? 0;
      if (archived === 0) audit.missingFromArchive.push(event.eventId);
      if (archived > 1) (audit as { archiveDuplicates: number }).archiveDuplicates += archived - 1;
    }
    // First appearance of each version in the stream, per cart: must be 1..n with no gap.
    const versions = [...new Set(streamEvents.filter((e) => e.aggregateId === cartId).map((e) => e.version))].sort((a, b) => a - b);
    if (versions.some((v, i) => v !== i + 1)) audit.kinesisVersionGaps.push(cartId);

    const state = fold(toCartEvents(stream.events));
    const projected = await api('GET', `/read/carts/${cartId}`);
    const expected =
      state.status === 'NONE'
        ? undefined
        : { cartId, status: state.status, items: state.items, totalQuantity: state.items.reduce((n, l) => n + l.quantity, 0), version: stream.version };
    const actual = projected.status === 200 ? projected.body : undefined;
    if (!isDeepStrictEqual(normalised(actual), normalised(expected))) audit.projectionMismatches.push(cartId);
  }
  return audit;
}

/** Item lines compared as a set: the read model may order them differently from the aggregate. */
function normalised(view: { items?: readonly { sku: string; quantity: number }[] } | undefined): unknown {
  if (!view) return undefined;
  const items = [...(view.items ?? [])].map(({ sku, quantity }) => ({ sku, quantity })).sort((a, b) => a.sku.localeCompare(b.sku));
  return { ...view, items };
}

/** Polls the audit until the pipeline has caught up with the store, or the deadline passes. */
export async function awaitConvergence(cartIds: readonly string[], deadlineMs = 60_000): Promise<PipelineAudit> {
  const deadline = Date.now() + deadlineMs;
  let audit = await auditPipeline(cartIds);
  while (!isConverged(audit) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    audit = await auditPipeline(cartIds);
  }
  return audit;
}
