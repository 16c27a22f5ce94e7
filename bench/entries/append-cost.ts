import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import itemSize from 'dyno-item-size';
import { dynamoDbDocumentClient } from '../../adapters/aws-clients';
import { DynamoDbEventStore, MAX_EVENTS_PER_APPEND, toItem } from '../../adapters/dynamodb/event-store';
import { loadCart, toCartEvents } from '../../application/cart-commands';
import { fold } from '../../domain/cart';
import type { SeedEvent } from '../../domain/cdc';
import type { EventEnvelope } from '../../domain/events';
import { CHART_IDS, type BenchContext, type BenchEntry, type Cell } from '../harness';
import { cartEnvelopes } from '../support/cart-events';
import { mean, median, timeMs } from '../support/measure';
import { dropTables, eventStoreTableLike, freshTable } from '../support/tables';

/**
 * What one more event costs to write as a cart's history grows: our event store (one item per event) against
 * the seed's layout (one item per cart, all events in an `Events` list), both on DynamoDB Local in this run.
 * DynamoDB bills a write on the item's size (1 WCU per KB, an update on the larger of the old and new item),
 * so the one-item layout pays for the whole history on every append, until the item reaches 400 KB.
 */
export const appendCost: BenchEntry = {
  name: 'append-cost',
  title: 'DynamoDB write cost per appended event as a cart grows',
  async run(ctx) {
    const client = new DynamoDBClient({});
    const documents = dynamoDbDocumentClient(client);
    // No streams on these two tables: write units do not depend on them, and DynamoDB Local keeps the stream
    // records of hundreds of 100-400 KB one-item updates in its database after the tables are dropped, which
    // slowed every later entry several times over.
    const { StreamSpecification: _stream, ...eventStoreKeys } = eventStoreTableLike(ctx.stack, 'bench-append-cost-events');
    const oursTable = await freshTable(client, eventStoreKeys);
    const seedTable = await freshTable(client, {
      TableName: 'bench-append-cost-one-item',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'Uuid', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'Uuid', KeyType: 'HASH' }],
    });
    ctx.cleanUp(() => dropTables(client, [oursTable, seedTable]));
    const histories = ctx.scale([1, 100, 1_000, 10_000], [1, 100]);
    const appendsPerPoint = ctx.scale(20, 3);
    const loadsPerPoint = ctx.scale(3, 1);

    const ours = new EventPerItemLayout(new DynamoDbEventStore(documents, oursTable));
    const seed = new OneItemLayout(documents, seedTable);
    const rows: Point[] = [];
    for (const history of histories) {
      ctx.log(`history ${history.toLocaleString('en-US')}: ours...`);
      const oursPoint = await ours.measure(history, appendsPerPoint, loadsPerPoint);
      ctx.log(`history ${history.toLocaleString('en-US')}: one item per cart...`);
      const seedPoint = await seed.measure(history, appendsPerPoint, loadsPerPoint);
      rows.push({ history, ours: oursPoint, seed: seedPoint });
    }
    ctx.log('finding the history length at which the one-item layout stops taking events...');
    const limit = await seed.findLimit(Math.max(...rows.filter((r) => r.seed.ok).map((r) => r.history + appendsPerPoint), 1));

    report(ctx, rows, limit, appendsPerPoint);
  },
};

interface Measured {
  readonly ok: boolean;
  readonly failure?: string;
  readonly writeUnits: number;
  readonly itemBytes: number;
  readonly appendMs: number;
  readonly loadMs: number;
}

interface Point {
  readonly history: number;
  readonly ours: Measured;
  readonly seed: Measured;
}

/** Ours: one cart grown through the checkpoints with the real adapter, 100 events per transaction. */
class EventPerItemLayout {
  private readonly cartId = randomUUID();
  private version = 0;

  constructor(private readonly store: DynamoDbEventStore) {}

  async measure(history: number, appends: number, loads: number): Promise<Measured> {
    while (this.version < history) {
      const count = Math.min(MAX_EVENTS_PER_APPEND, history - this.version);
      await this.store.appendToStream(this.cartId, this.version, cartEnvelopes(this.cartId, this.version, count));
      this.version += count;
    }
    const units: number[] = [];
    const bytes: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < appends; i++) {
      const [event] = cartEnvelopes(this.cartId, this.version, 1);
      let result: Awaited<ReturnType<DynamoDbEventStore['appendToStream']>> | undefined;
      times.push(await timeMs(async () => (result = await this.store.appendToStream(this.cartId, this.version, [event!]))));
      this.version++;
      units.push(result?.consumedWriteUnits ?? Number.NaN);
      bytes.push(itemSize(toItem(event!)));
    }
    const loadTimes: number[] = [];
    for (let i = 0; i < loads; i++) loadTimes.push(await timeMs(() => loadCart(this.store, this.cartId)));
    return { ok: true, writeUnits: mean(units), itemBytes: mean(bytes), appendMs: median(times), loadMs: median(loadTimes) };
  }
}

function toSeedEvent(event: EventEnvelope): SeedEvent {
  return { EventUuid: event.eventId, AggregateUuid: event.aggregateId, Name: event.type, Data: event.data, Version: event.version };
}

/**
 * The seed's layout: hash key `Uuid`, one item per cart, its events in the `Events` list. An append is the
 * cheapest write that layout allows, an UpdateItem with list_append conditioned on the list's length (a Put of
 * the whole item costs the same: both are billed on the whole item).
 */
class OneItemLayout {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private async put(cartId: string, history: number): Promise<void> {
    const events = cartEnvelopes(cartId, 0, history).map(toSeedEvent);
    await this.documents.send(new PutCommand({ TableName: this.tableName, Item: { Uuid: cartId, Events: events } }));
  }

  private async append(cartId: string, version: number): Promise<{ writeUnits: number; itemBytes: number }> {
    const [event] = cartEnvelopes(cartId, version, 1);
    const result = await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { Uuid: cartId },
        UpdateExpression: 'SET Events = list_append(Events, :new)',
        ConditionExpression: 'size(Events) = :expected',
        ExpressionAttributeValues: { ':new': [toSeedEvent(event!)], ':expected': version },
        ReturnValues: 'ALL_NEW',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return { writeUnits: result.ConsumedCapacity?.CapacityUnits ?? Number.NaN, itemBytes: itemSize(result.Attributes ?? {}) };
  }

  async measure(history: number, appends: number, loads: number): Promise<Measured> {
    const cartId = randomUUID();
    try {
      await this.put(cartId, history);
      const units: number[] = [];
      const bytes: number[] = [];
      const times: number[] = [];
      for (let i = 0; i < appends; i++) {
        let result: { writeUnits: number; itemBytes: number } | undefined;
        times.push(await timeMs(async () => (result = await this.append(cartId, history + i))));
        units.push(result!.writeUnits);
        bytes.push(result!.itemBytes);
      }
      const loadTimes: number[] = [];
      for (let i = 0; i < loads; i++) loadTimes.push(await timeMs(() => this.load(cartId)));
      return { ok: true, writeUnits: mean(units), itemBytes: mean(bytes), appendMs: median(times), loadMs: median(loadTimes) };
    } catch (error) {
      return { ok: false, failure: (error as Error).message, writeUnits: Number.NaN, itemBytes: Number.NaN, appendMs: Number.NaN, loadMs: Number.NaN };
    }
  }

  private async load(cartId: string): Promise<void> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { Uuid: cartId }, ConsistentRead: true }));
    const events = ((Item?.Events ?? []) as SeedEvent[]).map((e) => ({ type: e.Name, schemaVersion: 1, data: e.Data }) as EventEnvelope);
    fold(toCartEvents(events));
  }

  /**
   * The longest history the one item can hold (binary search over whole-item Puts from `fits`, a length known to
   * fit), then the append that fails: the event count at which a seed cart stops taking events.
   */
  async findLimit(fits: number): Promise<{ maxEvents: number; failure: string }> {
    let lo = fits;
    let hi = fits * 2;
    while (await this.fits(hi)) [lo, hi] = [hi, hi * 2];
    while (hi - lo > 1) {
      const middle = Math.floor((lo + hi) / 2);
      if (await this.fits(middle)) lo = middle;
      else hi = middle;
    }
    const cartId = randomUUID();
    await this.put(cartId, lo);
    try {
      await this.append(cartId, lo);
    } catch (error) {
      return { maxEvents: lo, failure: (error as Error).message };
    }
    throw new Error(`the one-item layout took event ${lo + 1} although a Put of ${lo + 1} events failed`);
  }

  private async fits(history: number): Promise<boolean> {
    try {
      await this.put(randomUUID(), history);
      return true;
    } catch (error) {
      if (/size/i.test((error as Error).message)) return false;
      throw error;
    }
  }
}

function report(ctx: BenchContext, rows: Point[], limit: { maxEvents: number; failure: string }, appends: number): void {
  const failed = (m: Measured, value: number): Cell => (m.ok ? value : 'fails: item > 400 KB');
  ctx.table({
    title: 'Cost of appending one event to a cart of N events (DynamoDB Local ConsumedCapacity; item bytes as DynamoDB counts them)',
    columns: ['history (events)', 'ours: WCU/append', 'ours: bytes written', 'one item: WCU/append', 'one item: item bytes', 'one item ÷ ours (WCU)', 'ours: load ms', 'one item: load ms'],
    rows: rows.map(({ history, ours, seed }) => [
      history.toLocaleString('en-US'),
      ours.writeUnits,
      Math.round(ours.itemBytes),
      failed(seed, seed.writeUnits),
      failed(seed, Math.round(seed.itemBytes)),
      seed.ok ? `×${(seed.writeUnits / ours.writeUnits).toFixed(1)}` : '—',
      Math.round(ours.loadMs),
      seed.ok ? Math.round(seed.loadMs) : '—',
    ]),
    notes: [
      `Each point: the mean of ${appends} single-event appends at that history length; load = median time to read and fold the whole cart.`,
      `The one-item layout (seed) holds at most ${limit.maxEvents.toLocaleString('en-US')} of these events: appending event ${(limit.maxEvents + 1).toLocaleString('en-US')} fails with "${limit.failure}".`,
      'Ours writes only the new event item whatever the history; a load is a Query of the cart\'s partition (paged per MB).',
    ],
  });
  const first = rows[0]!;
  const last = rows.at(-1)!;
  ctx.ratio({
    name: `WCU per appended event, history ${last.history.toLocaleString('en-US')} vs ${first.history}`,
    subject: `ours at ${last.history.toLocaleString('en-US')}`,
    subjectValue: last.ours.writeUnits,
    baseline: `ours at ${first.history}`,
    baselineValue: first.ours.writeUnits,
    unit: 'WCU',
    higherIsBetter: false,
  });
  for (const row of rows.filter((r) => r.seed.ok)) {
    ctx.ratio({
      name: `WCU per appended event at history ${row.history.toLocaleString('en-US')}`,
      subject: 'one item per cart',
      subjectValue: row.seed.writeUnits,
      baseline: 'ours',
      baselineValue: row.ours.writeUnits,
      unit: 'WCU',
      higherIsBetter: false,
    });
  }
  ctx.ratio({
    name: `load time, history ${last.history.toLocaleString('en-US')} vs ${first.history}`,
    subject: `ours at ${last.history.toLocaleString('en-US')}`,
    subjectValue: last.ours.loadMs,
    baseline: `ours at ${first.history}`,
    baselineValue: first.ours.loadMs,
    unit: 'ms',
    higherIsBetter: false,
  });

  const lines = (pick: (m: Measured) => number) => ({
    ours: rows.map((r) => ({ x: r.history, y: pick(r.ours) })),
    seed: rows.filter((r) => r.seed.ok).map((r) => ({ x: r.history, y: pick(r.seed) })),
  });
  const seedNote = `stops at ${limit.maxEvents.toLocaleString('en-US')} events (400 KB)`;
  const chart = (id: string, chartTitle: string, yLabel: string, pick: (m: Measured) => number) => {
    const { ours, seed } = lines(pick);
    const common = { chart: id, chartTitle, xLabel: 'events already in the cart', yLabel, logX: true, logY: true };
    ctx.series({ ...common, name: 'ours: one item per event', points: ours });
    ctx.series({ ...common, name: 'seed: one item per cart', points: seed, note: seedNote });
  };
  chart(CHART_IDS.appendCostVsHistory, 'Append cost vs history length', 'WCU per appended event', (m) => m.writeUnits);
  chart('append-bytes-vs-history', 'Bytes written per append vs history length', 'item bytes written', (m) => m.itemBytes);
  chart('load-time-vs-history', 'Time to load a cart vs history length', 'ms (median)', (m) => m.loadMs);
}
