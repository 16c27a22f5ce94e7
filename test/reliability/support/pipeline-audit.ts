import { isDeepStrictEqual } from 'node:util';
import { GetShardIteratorCommand, GetRecordsCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { dynamoDbDocumentClient, kinesisClient, s3Client } from '../../../adapters/aws-clients';
import { DynamoDbEventStore } from '../../../adapters/dynamodb/event-store';
import { toCartEvents } from '../../../application/cart-commands';
import { fold } from '../../../domain/cart';
import type { EventEnvelope } from '../../../domain/events';
import { eventLogLines } from '../../support/consumers';
import { api, testStack } from '../../support/local-stack';

/**
 * What the pipeline holds for a set of carts, against the event store (the source of truth). Kinesis and the
 * archive are at-least-once (duplicates there are expected, counted, not failures); what the consumers made of
 * them (read models, event log) must hold each event exactly once, in version order.
 */
export interface PipelineAudit {
  readonly storedEvents: number;
  readonly missingFromKinesis: string[];
  /** Stored eventIds that no archive line holds. */
  readonly missingFromArchive: string[];
  /** Kinesis records of these carts beyond one per event (injected or real redeliveries). */
  readonly duplicatesInKinesis: number;
  /** Carts whose versions, by first appearance in Kinesis, are not 1..n in order. */
  readonly kinesisOutOfOrder: string[];
  /** Carts some version of which never reached Kinesis. */
  readonly kinesisVersionGaps: string[];
  /** Carts whose read model is not the fold of their stored events (a duplicate applied, an event missed). */
  readonly projectionMismatches: string[];
  /** Event log lines of these carts beyond one per event: must be 0. */
  readonly duplicatesInEventLog: number;
  /** Stored events the event log has not written (yet). */
  readonly missingFromEventLog: number;
  /** Carts whose event log lines, by first appearance, are not in version order: must be none. */
  readonly eventLogOutOfOrder: string[];
}

export function isConverged(audit: PipelineAudit): boolean {
  return (
    audit.missingFromKinesis.length === 0 &&
    audit.missingFromArchive.length === 0 &&
    audit.kinesisVersionGaps.length === 0 &&
    audit.projectionMismatches.length === 0 &&
    audit.missingFromEventLog === 0
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
      for (const record of page.Records ?? []) {
        try {
          events.push(JSON.parse(Buffer.from(record.Data!).toString('utf8')) as EventEnvelope);
        } catch {
          // not JSON: put into the stream by a test of bad input
        }
      }
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
      for (const line of body.split('\n')) {
        if (!line.trim()) continue;
        try {
          events.push(JSON.parse(line) as EventEnvelope);
        } catch {
          // Firehose archives whatever reached the stream, junk lines included
        }
      }
    }
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  return events;
}

export async function auditPipeline(cartIds: readonly string[]): Promise<PipelineAudit> {
  const store = new DynamoDbEventStore(dynamoDbDocumentClient(), testStack().resources.eventStoreTable);
  const [streamEvents, archiveEvents] = await Promise.all([readWholeStream(), readWholeArchive()]);
  const logLines = eventLogLines();
  const archived = new Set(archiveEvents.map((e) => e?.eventId));
  const audit = {
    storedEvents: 0,
    missingFromKinesis: [] as string[],
    missingFromArchive: [] as string[],
    duplicatesInKinesis: 0,
    kinesisOutOfOrder: [] as string[],
    kinesisVersionGaps: [] as string[],
    projectionMismatches: [] as string[],
    duplicatesInEventLog: 0,
    missingFromEventLog: 0,
    eventLogOutOfOrder: [] as string[],
  };
  const byCart = <T extends { aggregateId: string }>(items: readonly T[]) => {
    const map = new Map<string, T[]>();
    for (const item of items) map.set(item.aggregateId, [...(map.get(item.aggregateId) ?? []), item]);
    return map;
  };
  const streamByCart = byCart(streamEvents.filter((e) => e && typeof e.aggregateId === 'string'));
  const logByCart = byCart(logLines);
  for (const cartId of cartIds) {
    const stream = await store.readStream(cartId);
    audit.storedEvents += stream.events.length;
    const inKinesis = streamByCart.get(cartId) ?? [];
    const kinesisIds = new Set(inKinesis.map((e) => e.eventId));
    for (const event of stream.events) {
      if (!kinesisIds.has(event.eventId)) audit.missingFromKinesis.push(event.eventId);
      if (!archived.has(event.eventId)) audit.missingFromArchive.push(event.eventId);
    }
    audit.duplicatesInKinesis += inKinesis.length - kinesisIds.size;
    const kinesisOrder = firstAppearances(inKinesis.map((e) => e.version));
    if (!isAscending(kinesisOrder)) audit.kinesisOutOfOrder.push(cartId);
    if ([...kinesisOrder].sort((a, b) => a - b).some((v, i) => v !== i + 1)) audit.kinesisVersionGaps.push(cartId);
    const logged = logByCart.get(cartId) ?? [];
    const loggedIds = new Set(logged.map((l) => l.eventId));
    audit.duplicatesInEventLog += logged.length - loggedIds.size;
    audit.missingFromEventLog += stream.events.filter((e) => !loggedIds.has(e.eventId)).length;
    // At least once (docs/delivery-guarantees.md): a repeat may come after later lines; the first lines keep order.
    if (!isAscending(firstAppearances(logged.map((l) => l.version)))) audit.eventLogOutOfOrder.push(cartId);
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

/** Each distinct value at its first appearance, in order of appearance. */
function firstAppearances(values: readonly number[]): number[] {
  const seen = new Set<number>();
  return values.filter((v) => !seen.has(v) && seen.add(v) !== undefined);
}

function isAscending(values: readonly number[]): boolean {
  return values.every((v, i) => i === 0 || v > values[i - 1]!);
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

/** The audit's part of a scenario's summary line. */
export function auditOutcome(audit: PipelineAudit): { eventsLost: number; duplicatesInProjections: number; duplicatesInEventLog: number; duplicatesInKinesis: number } {
  return {
    eventsLost: new Set([...audit.missingFromKinesis, ...audit.missingFromArchive]).size,
    duplicatesInProjections: audit.projectionMismatches.length,
    duplicatesInEventLog: audit.duplicatesInEventLog,
    duplicatesInKinesis: audit.duplicatesInKinesis,
  };
}

/**
 * What every scenario asserts of the pipeline once it converged, each consumer held to its promise
 * (docs/delivery-guarantees.md): the projections exactly once; the event log and the archive at least once, never
 * missing an event (the event log's repeats are counted in the summary, not refused).
 */
export function expectDownstreamPromises(audit: PipelineAudit): void {
  expect(audit.missingFromKinesis).toEqual([]);
  expect(audit.kinesisVersionGaps).toEqual([]);
  expect(audit.missingFromArchive).toEqual([]);
  expect(audit.projectionMismatches).toEqual([]);
  expect(audit.missingFromEventLog).toBe(0);
  expect(audit.eventLogOutOfOrder).toEqual([]);
}
