import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventStore as CastoreEventStore, EventType, type Aggregate, type EventDetail } from '@castore/core';
import {
  DynamoDBSingleTableEventStorageAdapter,
  EVENT_TABLE_EVENT_STORE_ID_KEY,
  EVENT_TABLE_INITIAL_EVENT_INDEX_NAME,
  EVENT_TABLE_PK,
  EVENT_TABLE_SK,
  EVENT_TABLE_TIMESTAMP_KEY,
} from '@castore/event-storage-adapter-dynamodb';
import { dynamoDbDocumentClient } from '../../adapters/aws-clients';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { loadCart } from '../../application/cart-commands';
import { CART_EVENT_TYPES, evolve, upcastCartEvent, type CartState } from '../../domain/cart';
import type { EventEnvelope } from '../../domain/events';
import type { BenchEntry } from '../harness';
import { cartEnvelopes } from '../support/cart-events';
import { measureThroughput, median, timeMs, type Throughput } from '../support/measure';
import { dropTables, eventStoreTableLike, freshTable } from '../support/tables';

/**
 * Our event store against a peer: castore's DynamoDB adapter (also one item per event), on the same DynamoDB
 * Local, in tables with the same keys and stream, writing the same cart events. Each side gets its own client.
 */
export const castorePeer: BenchEntry = {
  name: 'castore-peer',
  title: 'Event store vs castore (DynamoDB single-table adapter)',
  async run(ctx) {
    // No SDK retries: the one retry that is needed (DynamoDB Local's lock timeouts, see withLockRetries) is done
    // and counted here, the same for both sides.
    const oursClient = new DynamoDBClient({ maxAttempts: 1 });
    const theirsClient = new DynamoDBClient({ maxAttempts: 1 });
    const oursTable = await freshTable(oursClient, eventStoreTableLike(ctx.stack, 'bench-peer-ours'));
    const theirsTable = await freshTable(theirsClient, castoreTable('bench-peer-castore'));
    ctx.cleanUp(() => dropTables(oursClient, [oursTable, theirsTable]));
    const ours = withLockRetries(new Ours(new DynamoDbEventStore(dynamoDbDocumentClient(oursClient), oursTable)));
    const theirs = withLockRetries(new Theirs(theirsClient, theirsTable));
    const sides: Side[] = [ours, theirs];

    const durationMs = ctx.scale(4_000, 400);
    const rounds = ctx.scale(2, 1);
    const scenarios = [
      { writers: 1, commit: 1 },
      { writers: 1, commit: 10 },
      { writers: 20, commit: 1 },
      { writers: 20, commit: 10 },
    ];
    // Warm both up (connections, JIT, DynamoDB Local's table files) before anything counts.
    for (const side of sides) await appendThroughput(side, 4, 1, ctx.scale(500, 100));

    const rows: (string | number)[][] = [];
    for (const { writers, commit } of scenarios) {
      const best = new Map<Side, Throughput>();
      // Alternate the sides, best of `rounds`: drift in the machine's load then hurts neither side alone.
      for (let round = 0; round < rounds; round++) {
        for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
          ctx.log(`${side.name}: ${writers} writer(s), commits of ${commit}, round ${round + 1}`);
          const result = await appendThroughput(side, writers, commit, durationMs);
          if ((best.get(side)?.eventsPerSecond ?? -1) < result.eventsPerSecond) best.set(side, result);
        }
      }
      const o = best.get(ours)!;
      const t = best.get(theirs)!;
      const name = `append events/s, ${writers} writer${writers > 1 ? 's' : ''} on different carts, commits of ${commit}`;
      rows.push([`${writers} writer${writers > 1 ? 's' : ''}, commits of ${commit} event${commit > 1 ? 's' : ''}`, 'events/s', o.eventsPerSecond, t.eventsPerSecond, `×${(o.eventsPerSecond / t.eventsPerSecond).toFixed(2)}`]);
      ctx.ratio({ name, subject: 'ours', subjectValue: o.eventsPerSecond, baseline: 'castore', baselineValue: t.eventsPerSecond, unit: 'events/s', higherIsBetter: true });
    }

    // Both carts are built first, then the loads alternate: whoever went first would otherwise pay for DynamoDB
    // Local settling after the writes.
    const historyLength = 1_000;
    const loads = ctx.scale(9, 2);
    const carts = new Map<Side, string>();
    for (const side of sides) {
      ctx.log(`${side.name}: building a ${historyLength}-event cart`);
      const cartId = randomUUID();
      for (let version = 0; version < historyLength; version += 100) await side.append(cartId, version, cartEnvelopes(cartId, version, 100));
      const reduced = await side.load(cartId);
      if (reduced.version !== historyLength) throw new Error(`${side.name} loaded version ${reduced.version}, expected ${historyLength}`);
      carts.set(side, cartId);
    }
    const loadTimes = new Map<Side, number[]>(sides.map((side) => [side, []]));
    for (let i = 0; i < loads; i++) {
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) loadTimes.get(side)!.push(await timeMs(() => side.load(carts.get(side)!)));
    }
    const loadMs = new Map<Side, number>(sides.map((side) => [side, median(loadTimes.get(side)!)]));
    const ol = loadMs.get(ours)!;
    const tl = loadMs.get(theirs)!;
    rows.push([`load a ${historyLength.toLocaleString('en-US')}-event cart (Query + fold)`, 'ms (median)', ol, tl, `×${(ol / tl).toFixed(2)}`]);
    ctx.ratio({ name: `time to load a ${historyLength}-event cart`, subject: 'ours', subjectValue: ol, baseline: 'castore', baselineValue: tl, unit: 'ms', higherIsBetter: false });

    ctx.table({
      title: 'Ours vs castore on the same DynamoDB Local',
      columns: ['measure', 'unit', 'ours', 'castore', 'ours ÷ castore'],
      rows,
      notes: [
        `Throughput: best of ${rounds} alternating round(s) of ${durationMs / 1000} s per side; each writer appends to its own cart at a version it knows (no reads), a commit of 10 is one transaction on both sides.`,
        'Both sides: one item per event, conditional Put (1 event) or TransactWriteItems (10 events), tables with the same keys and stream; castore\'s also has its initialEvents GSI, which it needs.',
        'Load: ours = Query + upcast (zod) + fold; castore = getAggregate (Query + its reducer, here the same evolve).',
        `DynamoDB Local refuses concurrent transactions that wait too long for its lock ("will succeed in actual DynamoDB"); such a commit is retried after a short random pause and counted: ours ${ours.lockRetries}, castore ${theirs.lockRetries}.`,
      ],
    });
  },
};

interface Side {
  readonly name: string;
  readonly lockRetries?: number;
  append(cartId: string, expectedVersion: number, events: EventEnvelope[]): Promise<void>;
  load(cartId: string): Promise<{ version: number }>;
}

async function appendThroughput(side: Side, writers: number, commit: number, durationMs: number): Promise<Throughput> {
  // Each writer's cart is opened before the clock starts: only commits of the measured size count.
  const carts = await Promise.all(
    Array.from({ length: writers }, async () => {
      const cartId = randomUUID();
      await side.append(cartId, 0, cartEnvelopes(cartId, 0, 1));
      return { cartId, version: 1 };
    }),
  );
  return measureThroughput(writers, durationMs, async (writer) => {
    const cart = carts[writer]!;
    await side.append(cart.cartId, cart.version, cartEnvelopes(cart.cartId, cart.version, commit));
    cart.version += commit;
    return commit;
  });
}

/**
 * DynamoDB Local answers a transaction that waited too long for its internal lock with a 500 ("This action timed
 * out because it too long waiting for a lock. This request will succeed in actual DynamoDB API"); nothing was
 * written. Such appends are retried and counted; any other error ends the run.
 */
function withLockRetries<S extends Side>(side: S): S & { lockRetries: number } {
  const counted = Object.assign(Object.create(side) as S, { lockRetries: 0 });
  counted.append = async (cartId, expectedVersion, events) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await side.append(cartId, expectedVersion, events);
      } catch (error) {
        if (!/waiting for a lock/.test((error as Error).message) || attempt >= 50) throw error;
        counted.lockRetries++;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * Math.min(attempt, 10)));
      }
    }
  };
  return counted;
}

class Ours implements Side {
  readonly name = 'ours';
  constructor(private readonly store: DynamoDbEventStore) {}
  async append(cartId: string, expectedVersion: number, events: EventEnvelope[]): Promise<void> {
    await this.store.appendToStream(cartId, expectedVersion, events);
  }
  async load(cartId: string): Promise<{ version: number }> {
    return loadCart(this.store, cartId);
  }
}

type CartAggregate = Aggregate & { state: CartState };

class Theirs implements Side {
  readonly name = 'castore';
  private readonly store;

  constructor(client: DynamoDBClient, tableName: string) {
    this.store = new CastoreEventStore({
      eventStoreId: 'CARTS',
      eventTypes: CART_EVENT_TYPES.map((type) => new EventType<string>({ type })),
      // The same fold as ours, so that the load measures the stores, not two different reducers.
      reducer: (aggregate: CartAggregate | undefined, event: EventDetail): CartAggregate => ({
        aggregateId: event.aggregateId,
        version: event.version,
        state: evolve(aggregate?.state ?? { status: 'NONE' }, upcastCartEvent(event.type, 1, event.payload)),
      }),
      eventStorageAdapter: new DynamoDBSingleTableEventStorageAdapter({ tableName, dynamoDBClient: client }),
    });
  }

  async append(cartId: string, _expectedVersion: number, events: EventEnvelope[]): Promise<void> {
    const details = events.map((event) => ({
      aggregateId: cartId,
      version: event.version,
      type: event.type,
      timestamp: event.occurredAt,
      payload: event.data,
      // The event id travels along, as ours stores it: the items are of comparable size.
      metadata: { eventId: event.eventId, schemaVersion: event.schemaVersion },
    }));
    if (details.length === 1) await this.store.pushEvent(details[0]!);
    else {
      const [first, second, ...rest] = details.map((detail) => this.store.groupEvent(detail));
      await CastoreEventStore.pushEventGroup(first!, second!, ...rest);
    }
  }

  async load(cartId: string): Promise<{ version: number }> {
    const { aggregate } = await this.store.getAggregate(cartId);
    return { version: aggregate?.version ?? 0 };
  }
}

/** castore's documented table: aggregateId/version keys plus the initialEvents GSI; same stream as ours. */
function castoreTable(TableName: string) {
  return {
    TableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [
      { AttributeName: EVENT_TABLE_PK, AttributeType: 'S' as const },
      { AttributeName: EVENT_TABLE_SK, AttributeType: 'N' as const },
      { AttributeName: EVENT_TABLE_EVENT_STORE_ID_KEY, AttributeType: 'S' as const },
      { AttributeName: EVENT_TABLE_TIMESTAMP_KEY, AttributeType: 'S' as const },
    ],
    KeySchema: [
      { AttributeName: EVENT_TABLE_PK, KeyType: 'HASH' as const },
      { AttributeName: EVENT_TABLE_SK, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: EVENT_TABLE_INITIAL_EVENT_INDEX_NAME,
        KeySchema: [
          { AttributeName: EVENT_TABLE_EVENT_STORE_ID_KEY, KeyType: 'HASH' as const },
          { AttributeName: EVENT_TABLE_TIMESTAMP_KEY, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' as const },
      },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' as const },
  };
}

