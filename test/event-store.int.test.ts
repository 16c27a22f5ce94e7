import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import { dynamoDbDocumentClient } from '../adapters/aws-clients';
import { DynamoDbEventStore } from '../adapters/dynamodb/event-store';
import { loadCart, stampEvents } from '../application/cart-commands';
import { VersionConflict } from '../application/event-store';
import { CURRENT_SCHEMA_VERSION, type CartEvent } from '../domain/cart';
import { localTables, waitFor } from '../local/resources';
import { testStack } from './support/local-stack';

/** A client that remembers which DynamoDB operations it sent: loading must be Query, never Scan. */
function recordingClient(): { client: DynamoDBClient; sent: string[] } {
  const client = new DynamoDBClient({});
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandNames' },
  );
  return { client, sent };
}

const { client, sent } = recordingClient();
/**
 * A table of its own, with the event store's key schema and stream: the stack's Pipe runner does not poll it, so
 * the 10,000-event cart here does not flood the pipeline that the other test files share.
 */
const TABLE = `event-store-test-${randomUUID().slice(0, 8)}`;
const store = new DynamoDbEventStore(dynamoDbDocumentClient(client), TABLE);

beforeAll(async () => {
  const definition = localTables(testStack()).find((table) => table.TableName === testStack().resources.eventStoreTable);
  await client.send(new CreateTableCommand({ ...definition!, TableName: TABLE }));
  await waitFor(`table ${TABLE}`, async () => (await client.send(new DescribeTableCommand({ TableName: TABLE }))).Table?.TableStatus === 'ACTIVE');
});
afterAll(() => client.send(new DeleteTableCommand({ TableName: TABLE })));
const AT = new Date('2026-03-04T05:06:07.000Z');

const opened: CartEvent = { type: 'CartOpened', data: {} };
const added = (sku: string, quantity = 1): CartEvent => ({ type: 'ItemAdded', data: { sku, quantity } });
const stamp = (cartId: string, fromVersion: number, events: CartEvent[]) => stampEvents(cartId, fromVersion, events, AT, randomUUID);

describe('DynamoDB event store', () => {
  beforeEach(() => sent.splice(0));

  it('appends and reads back the same envelopes, event ids included', async () => {
    const cartId = randomUUID();
    const first = stamp(cartId, 0, [opened, added('A', 2)]);
    await store.appendToStream(cartId, 0, first);
    const second = stamp(cartId, 2, [added('B')]);
    await store.appendToStream(cartId, 2, second);
    const read = await store.readStream(cartId);
    expect(read).toEqual({ events: [...first, ...second], version: 3 });
    expect(await store.readStream(cartId)).toEqual(read);
  });

  it('loads history written at older payload versions through the upcasters (ItemAdded v1, and v2 with a name)', async () => {
    const cartId = randomUUID();
    const [open, v2] = stamp(cartId, 0, [opened, { type: 'ItemAdded', data: { sku: 'Red-Mug-6569337052d9', quantity: 1, name: 'Red Mug' } }]);
    const [v1] = stamp(cartId, 2, [added('A', 2)]).map((event) => ({ ...event, schemaVersion: 1 }));
    await store.appendToStream(cartId, 0, [open!, v2!, v1!]);
    expect(await loadCart(store, cartId)).toEqual({
      cartId,
      version: 3,
      state: { status: 'OPEN', items: [{ sku: 'Red-Mug-6569337052d9', quantity: 1, name: 'Red Mug' }, { sku: 'A', quantity: 2 }] },
    });
  });

  it('reads a cart that does not exist as version 0 with no events', async () => {
    expect(await store.readStream(randomUUID())).toEqual({ events: [], version: 0 });
  });

  it('lets exactly one of 20 parallel appends at the same expected version win; the rest get VersionConflict, no gaps', async () => {
    const cartId = randomUUID();
    await store.appendToStream(cartId, 0, stamp(cartId, 0, [opened]));
    const writers = Array.from({ length: 20 }, (_, i) =>
      // Half single-event Puts, half two-event transactions: both paths must refuse the losers.
      store.appendToStream(cartId, 1, stamp(cartId, 1, i % 2 === 0 ? [added(`W${i}`)] : [added(`W${i}`), added(`W${i}`)])),
    );
    const outcomes = await Promise.allSettled(writers);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    expect(lost.every((o) => o.reason instanceof VersionConflict)).toBe(true);

    const { events, version } = await store.readStream(cartId);
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
    expect(version).toBe(events.length);
    const winner = events[1]!.data.sku;
    expect(events.slice(1).every((e) => e.data.sku === winner)).toBe(true);
  });

  it('refuses a multi-event append whole when any one of its versions is taken', async () => {
    const cartId = randomUUID();
    await store.appendToStream(cartId, 0, stamp(cartId, 0, [opened, added('A')]));
    await expect(store.appendToStream(cartId, 1, stamp(cartId, 1, [added('B'), added('C'), added('D')]))).rejects.toBeInstanceOf(VersionConflict);
    expect((await store.readStream(cartId)).events.map((e) => e.data.sku)).toEqual([undefined, 'A']);
  });

  it('refuses an append that does not continue the stream it names', async () => {
    const cartId = randomUUID();
    await expect(store.appendToStream(cartId, 0, stamp(cartId, 1, [opened]))).rejects.toThrow(RangeError);
    await expect(store.appendToStream(cartId, 0, stamp(randomUUID(), 0, [opened]))).rejects.toThrow(RangeError);
    expect(await store.readStream(cartId)).toEqual({ events: [], version: 0 });
  });

  it('writes one stream INSERT record per event, its NewImage holding the whole event', async () => {
    const cartId = randomUUID();
    const events = stamp(cartId, 0, [opened, added('A', 2), added('B')]);
    await store.appendToStream(cartId, 0, events);

    const streams = new DynamoDBStreamsClient({});
    const { Table } = await client.send(new DescribeTableCommand({ TableName: TABLE }));
    const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: Table!.LatestStreamArn! }));
    const records = [];
    for (const shard of StreamDescription!.Shards ?? []) {
      let iterator = (
        await streams.send(new GetShardIteratorCommand({ StreamArn: Table!.LatestStreamArn!, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))
      ).ShardIterator;
      // An open shard never runs dry: read until a page comes back empty.
      while (iterator) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        records.push(...(page.Records ?? []).filter((r) => r.dynamodb?.Keys?.aggregateId?.S === cartId));
        if ((page.Records ?? []).length === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'INSERT', 'INSERT']);
    expect(records.map((r) => r.dynamodb!.NewImage!.version!.N)).toEqual(['1', '2', '3']);
    expect(records[1]!.dynamodb!.NewImage).toMatchObject({
      aggregateId: { S: cartId },
      version: { N: '2' },
      eventId: { S: events[1]!.eventId },
      aggregateType: { S: 'Cart' },
      type: { S: 'ItemAdded' },
      schemaVersion: { N: String(CURRENT_SCHEMA_VERSION.ItemAdded) },
      occurredAt: { S: AT.toISOString() },
      data: { M: { sku: { S: 'A' }, quantity: { N: '2' } } },
    });
    expect(records.every((r) => r.dynamodb!.OldImage === undefined)).toBe(true);
  }, 30_000);

  it('appends to and loads a 10,000-event cart with Query only, and the 10,001st append costs what the 2nd did', async () => {
    const cartId = randomUUID();
    const appendResults = [];
    appendResults.push(await store.appendToStream(cartId, 0, stamp(cartId, 0, [opened])));
    const secondAppend = await store.appendToStream(cartId, 1, stamp(cartId, 1, [added('SKU-0')]));
    for (let version = 2; version < 10_000; version += 100) {
      const count = Math.min(100, 10_000 - version);
      const batch = Array.from({ length: count }, (_, i) => added(`SKU-${(version + i) % 50}`));
      appendResults.push(await store.appendToStream(cartId, version, stamp(cartId, version, batch)));
    }
    expect(appendResults.at(-1)!.version).toBe(10_000);

    sent.splice(0);
    const cart = await loadCart(store, cartId);
    expect(new Set(sent)).toEqual(new Set(['QueryCommand']));
    expect(sent.length).toBeGreaterThan(1); // more than 1 MB of history: the Query pages
    expect(cart.version).toBe(10_000);
    expect(cart.state.status).toBe('OPEN');
    if (cart.state.status === 'NONE') throw new Error('unreachable');
    expect(cart.state.items).toHaveLength(50);
    expect(cart.state.items.reduce((sum, line) => sum + line.quantity, 0)).toBe(9_999);

    const { events } = await store.readStream(cartId);
    expect(events).toHaveLength(10_000);
    expect(events.every((e, i) => e.version === i + 1)).toBe(true);

    const late = await store.appendToStream(cartId, 10_000, stamp(cartId, 10_000, [added('SKU-0')]));
    expect(late.version).toBe(10_001);
    expect(late.consumedWriteUnits).toBeDefined();
    expect(late.consumedWriteUnits).toBe(secondAppend.consumedWriteUnits);
  }, 180_000);

});
