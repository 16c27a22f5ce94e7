import { randomUUID } from 'node:crypto';
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand, ResourceInUseException } from '@aws-sdk/client-kinesis';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dynamoDbDocumentClient, kinesisClient, s3Client } from '../../adapters/aws-clients';
import { DynamoDbCartSummaryTable } from '../../adapters/dynamodb/cart-summary-table';
import { DynamoDbItemPopularityTable } from '../../adapters/dynamodb/item-popularity-table';
import { InMemoryEventStore } from '../../application/in-memory-event-store';
import { CartProjections } from '../../application/projections';
import type { EventEnvelope } from '../../domain/events';
import { foldProjections, toCartSummary, foldCart, toVersionedCartEvent } from '../../domain/projections';
import { LocalArchiver } from '../../local/archiver/archiver';
import { listShards, ShardReader } from '../../local/kinesis-consumer/shard-reader';
import { localTables, waitFor } from '../../local/resources';
import type { BenchContext, BenchEntry } from '../harness';
import { cartEnvelopes } from '../support/cart-events';
import { freshTable } from '../support/tables';

/**
 * Consumers (issue 4): projection throughput for in-order and duplicate-heavy input, against the floor of
 * writing each batch's cart summaries with plain BatchWriteItem (no reads, no conditions, no sku rows); and the
 * archiver's events/s against the floor of PUTting the very same object bodies to s3rver directly.
 */
export const consumersBench: BenchEntry = {
  name: 'consumers',
  title: 'Consumers: projection and archive throughput',
  async run(ctx) {
    await projectionThroughput(ctx);
    await archiveThroughput(ctx);
  },
};

const BATCH = 100;

/** A shard's view of several carts: their events interleaved, each cart in version order. */
function interleaved(carts: number, eventsPerCart: number): EventEnvelope[] {
  const histories = Array.from({ length: carts }, () => cartEnvelopes(randomUUID(), 0, eventsPerCart));
  const out: EventEnvelope[] = [];
  for (let v = 0; v < eventsPerCart; v++) for (const history of histories) out.push(history[v]!);
  return out;
}

async function projectionThroughput(ctx: BenchContext): Promise<void> {
  const client = new DynamoDBClient({});
  const documents = dynamoDbDocumentClient(client);
  const carts = ctx.scale(40, 8);
  const eventsPerCart = ctx.scale(50, 10);
  const template = (name: string) => localTables(ctx.stack).find((t) => t.TableName === name)!;

  const run = async (label: string, delivered: EventEnvelope[], events: EventEnvelope[]) => {
    const summaryTable = await freshTable(client, { ...template(ctx.stack.resources.cartSummaryTable), TableName: `bench-${label}-summary` });
    const popularityTable = await freshTable(client, { ...template(ctx.stack.resources.itemPopularityTable), TableName: `bench-${label}-popularity` });
    const store = new InMemoryEventStore();
    for (const cartId of new Set(events.map((e) => e.aggregateId))) {
      const stream = events.filter((e) => e.aggregateId === cartId);
      await store.appendToStream(cartId, 0, stream);
    }
    const projections = new CartProjections(
      [new DynamoDbCartSummaryTable(documents, summaryTable), new DynamoDbItemPopularityTable(documents, popularityTable)],
      store,
    );
    const started = performance.now();
    let applied = 0;
    let skipped = 0;
    for (let i = 0; i < delivered.length; i += BATCH) {
      // As the projections handler does: every record of the batch at once, one applyOne each.
      const outcomes = await Promise.all(delivered.slice(i, i + BATCH).map((envelope) => projections.applyOne(envelope)));
      applied += outcomes.filter((o) => o === 'applied').length;
      skipped += outcomes.filter((o) => o === 'duplicate').length;
    }
    const seconds = (performance.now() - started) / 1000;
    const expected = foldProjections(events).cartSummaries;
    const sample = [...expected.keys()][0]!;
    const stored = await new DynamoDbCartSummaryTable(documents, summaryTable).summary(sample);
    if (JSON.stringify(stored) !== JSON.stringify(expected.get(sample))) throw new Error(`${label}: the projection does not equal the fold`);
    return { seconds, applied, skipped, eventsPerSecond: delivered.length / seconds };
  };

  ctx.log('projections: warming DynamoDB Local up (its JIT makes the first writes several times slower)...');
  const warmUp = interleaved(10, 10);
  await run('warm-up', warmUp, warmUp);

  ctx.log(`projections: ${carts} carts x ${eventsPerCart} events, in order...`);
  const events = interleaved(carts, eventsPerCart);
  const inOrder = await run('in-order', events, events);

  ctx.log('projections: duplicate-heavy (every batch delivered three times, as after retries)...');
  const dupEvents = interleaved(carts, eventsPerCart);
  const duplicated: EventEnvelope[] = [];
  for (let i = 0; i < dupEvents.length; i += BATCH) for (let r = 0; r < 3; r++) duplicated.push(...dupEvents.slice(i, i + BATCH));
  const duplicateHeavy = await run('duplicates', duplicated, dupEvents);

  ctx.log('projections: floor (plain BatchWriteItem of each batch’s final cart summaries)...');
  const floorTable = await freshTable(client, { ...template(ctx.stack.resources.cartSummaryTable), TableName: 'bench-floor-summary' });
  const floorEvents = interleaved(carts, eventsPerCart);
  const started = performance.now();
  const byCart = new Map<string, EventEnvelope[]>();
  for (let i = 0; i < floorEvents.length; i += BATCH) {
    const items = new Map<string, unknown>();
    for (const e of floorEvents.slice(i, i + BATCH)) {
      const history = [...(byCart.get(e.aggregateId) ?? []), e];
      byCart.set(e.aggregateId, history);
      items.set(e.aggregateId, toCartSummary(e.aggregateId, foldCart(history.map(toVersionedCartEvent))));
    }
    const puts = [...items.values()].map((Item) => ({ PutRequest: { Item: Item as Record<string, unknown> } }));
    for (let j = 0; j < puts.length; j += 25) {
      let requests = puts.slice(j, j + 25);
      while (requests.length > 0) {
        const result = await documents.send(new BatchWriteCommand({ RequestItems: { [floorTable]: requests } }));
        requests = (result.UnprocessedItems?.[floorTable] ?? []) as typeof requests;
      }
    }
  }
  const floorSeconds = (performance.now() - started) / 1000;
  const floor = floorEvents.length / floorSeconds;

  ctx.table({
    title: 'Projections (cart-summary + item-popularity), batches of 100 as the Kinesis consumer gets them',
    columns: ['input', 'events delivered', 'applied', 'skipped as duplicates', 'seconds', 'events/s'],
    rows: [
      ['in order, each event once', events.length, inOrder.applied, inOrder.skipped, round(inOrder.seconds), Math.round(inOrder.eventsPerSecond)],
      ['duplicate-heavy (each batch 3x)', duplicated.length, duplicateHeavy.applied, duplicateHeavy.skipped, round(duplicateHeavy.seconds), Math.round(duplicateHeavy.eventsPerSecond)],
      ['floor: BatchWriteItem of final summaries', floorEvents.length, null, null, round(floorSeconds), Math.round(floor)],
    ],
    notes: [
      'Every projection write is conditional on the cart version. The records of a batch are written together: cart-summary packs up to 100 carts\u2019 conditional Puts into one TransactWriteItems; item-popularity packs up to ~90 carts\u2019 cursor moves plus their merged sku row deltas into one (a cart whose condition fails leaves the pack, the rest is re-sent).',
      'A cart seen for the first time at version 1 is written without a read (the condition guards it); a duplicate is skipped only after a consistent read (BatchGetItem, 100 carts a request). The floor does no reads, no conditions and no sku rows.',
    ],
  });
  ctx.ratio({ name: 'projection events/s, in order', subject: 'projections', subjectValue: inOrder.eventsPerSecond, baseline: 'BatchWriteItem floor', baselineValue: floor, unit: 'events/s', higherIsBetter: true });
  ctx.ratio({ name: 'projection events/s, duplicate-heavy', subject: 'projections', subjectValue: duplicateHeavy.eventsPerSecond, baseline: 'BatchWriteItem floor', baselineValue: floor, unit: 'events/s', higherIsBetter: true });
}

async function archiveThroughput(ctx: BenchContext): Promise<void> {
  const kinesis = kinesisClient();
  const s3 = s3Client();
  const stream = `bench-archive-${Date.now()}`;
  const bucket = 'bench-archive';
  const total = ctx.scale(20_000, 1_000);
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 })).catch((error: unknown) => {
    if (!(error instanceof ResourceInUseException)) throw error;
  });
  await waitFor(`stream ${stream}`, async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE');
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);

  ctx.log(`archive: putting ${total} events into ${stream}...`);
  const events = interleaved(Math.ceil(total / 50), 50).slice(0, total);
  for (let i = 0; i < events.length; i += 500) {
    let batch = events.slice(i, i + 500);
    while (batch.length > 0) {
      const result = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: batch.map((e) => ({ Data: Buffer.from(JSON.stringify(e)), PartitionKey: e.aggregateId })) }));
      batch = batch.filter((_, index) => result.Records?.[index]?.ErrorCode);
    }
  }

  const stateDir = mkdtempSync(join(tmpdir(), 'bench-archiver-'));
  const bodies: { key: string; body: string }[] = [];
  let archived = 0;
  const archiver = new LocalArchiver(
    {
      listShards: () => listShards(kinesis, stream),
      openShard: (shardId, after) => new ShardReader(kinesis, stream, shardId, after, 'TRIM_HORIZON'),
      putObject: async (key, body) => {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }));
        bodies.push({ key, body });
        archived += body.split('\n').length - 1;
      },
    },
    { stateDir, flushIntervalMs: 5_000, maxBufferBytes: 5 * 1024 * 1024 },
  );
  ctx.log('archive: archiving them...');
  const started = performance.now();
  await archiver.open();
  while (archived < total) {
    const read = await archiver.poll();
    if (read === 0 && archived < total) await archiver.stop(); // flushes the tail
  }
  const archiveSeconds = (performance.now() - started) / 1000;
  rmSync(stateDir, { recursive: true, force: true });

  ctx.log('archive: floor (PUT the same bodies to s3rver directly)...');
  const floorStarted = performance.now();
  for (const { key, body } of bodies) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `floor/${key}`, Body: body, ContentType: 'application/x-ndjson' }));
  const floorSeconds = (performance.now() - floorStarted) / 1000;
  const bytes = bodies.reduce((sum, b) => sum + Buffer.byteLength(b.body), 0);

  ctx.log('archive: reading the shards alone (where the archiver spends its time)...');
  const readStarted = performance.now();
  let readRecords = 0;
  for (const shard of await listShards(kinesis, stream)) {
    const reader = new ShardReader(kinesis, stream, shard.ShardId!, undefined, 'TRIM_HORIZON');
    for (;;) {
      const { records } = await reader.read(1_000);
      if (records.length === 0) break;
      readRecords += records.length;
    }
  }
  const readSeconds = (performance.now() - readStarted) / 1000;

  ctx.table({
    title: 'Archive: Kinesis -> JSON Lines objects in s3rver',
    columns: ['path', 'events', 'objects', 'MiB', 'seconds', 'events/s'],
    rows: [
      ['local archiver (read shards, build lines, intent, PUT, checkpoint)', archived, bodies.length, round(bytes / 2 ** 20), round(archiveSeconds), Math.round(archived / archiveSeconds)],
      ['floor: PUT the same bodies', archived, bodies.length, round(bytes / 2 ** 20), round(floorSeconds), Math.round(archived / floorSeconds)],
      ['for reference: GetRecords of the same records only', readRecords, null, null, round(readSeconds), Math.round(readRecords / readSeconds)],
    ],
    notes: ['Objects are cut at 5 MiB (Firehose’s default buffer size) or 5 s, whichever comes first.'],
  });
  ctx.ratio({ name: 'archive events/s', subject: 'local archiver', subjectValue: archived / archiveSeconds, baseline: 'PUT the same bytes to s3rver', baselineValue: archived / floorSeconds, unit: 'events/s', higherIsBetter: true });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
