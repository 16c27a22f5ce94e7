import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDbDocumentClient } from '../adapters/aws-clients';
import { DynamoDbCartSummaryTable } from '../adapters/dynamodb/cart-summary-table';
import { deleteItemsWithKeyPrefix } from '../adapters/dynamodb/delete-all';
import { DynamoDbEventStore } from '../adapters/dynamodb/event-store';
import { DynamoDbItemPopularityTable } from '../adapters/dynamodb/item-popularity-table';
import { skuRowKey } from '../adapters/dynamodb/projection-tables';
import { executeCartCommand, stampEvents } from '../application/cart-commands';
import type { CartEvent } from '../domain/cart';
import { CartProjections } from '../application/projections';
import type { EventEnvelope } from '../domain/events';
import { foldProjections } from '../domain/projections';
import { testStack } from './support/local-stack';

jest.setTimeout(120_000);

/**
 * The DynamoDB projection adapters against DynamoDB Local, with a second writer racing the live projections
 * consumer (the commands below reach it through the Pipe): shuffled, duplicated delivery must still end equal to
 * the from-scratch fold. One cart holds 120 distinct skus, so closing it takes the chunked (> 99 skus) path.
 */
describe('projection tables in DynamoDB', () => {
  it('end equal to a from-scratch fold under duplicates, re-ordering and a concurrent writer', async () => {
    const { resources } = testStack();
    const documents = dynamoDbDocumentClient();
    const store = new DynamoDbEventStore(documents, resources.eventStoreTable);
    const summaries = new DynamoDbCartSummaryTable(documents, resources.cartSummaryTable);
    const popularity = new DynamoDbItemPopularityTable(documents, resources.itemPopularityTable);
    const projections = new CartProjections([summaries, popularity], store);

    const run = randomUUID().slice(0, 8);
    const skus = Array.from({ length: 4 }, (_, i) => `P-${run}-${i}`);
    const bigCart = randomUUID();
    const carts = [randomUUID(), randomUUID(), randomUUID(), bigCart];
    const events: EventEnvelope[] = [];
    const exec = async (cartId: string, command: Parameters<typeof executeCartCommand>[2]) => events.push(...(await executeCartCommand(store, cartId, command)).events);
    for (const [index, cartId] of carts.entries()) {
      await exec(cartId, { type: 'OpenCart' });
      for (let i = 0; i < 6; i++) await exec(cartId, { type: 'AddItem', sku: skus[(index + i) % skus.length]!, quantity: 1 + ((index + i) % 3) });
      await exec(cartId, { type: 'RemoveItem', sku: skus[index % skus.length]! });
    }
    const manySkus = Array.from({ length: 120 }, (_, i) => `M-${run}-${String(i).padStart(3, '0')}`);
    for (const sku of manySkus) await exec(bigCart, { type: 'AddItem', sku, quantity: 2 });
    await exec(carts[0]!, { type: 'CloseCart' });

    // Deliver every event twice, in a scrambled order, in batches, before the big cart is closed...
    const scrambled = [...events, ...events].map((e, i) => ({ e, key: (i * 7919) % 1009 })).sort((a, b) => a.key - b.key).map((x) => x.e);
    for (let i = 0; i < scrambled.length; i += 37) await projections.apply(scrambled.slice(i, i + 37));
    // ...then close it (more than 99 sku rows change in one event) and apply it from here too.
    await exec(bigCart, { type: 'CloseCart' });
    await projections.apply(events.slice(-1));

    const expected = foldProjections(events);
    for (const cartId of carts) {
      expect(await summaries.summary(cartId)).toEqual(expected.cartSummaries.get(cartId));
    }
    // The live consumer races on the same rows; give it time to finish, then every sku row must equal the fold.
    const deadline = Date.now() + 90_000;
    let rows: unknown[] = [];
    let wanted: unknown[] = [];
    while (Date.now() < deadline) {
      rows = await Promise.all(
        [...skus, ...manySkus].map(async (sku) => {
          const { Item } = await documents.send(new GetCommand({ TableName: resources.itemPopularityTable, Key: { pk: skuRowKey(sku) } }));
          return Item && { sku: Item.sku, timesAdded: Item.timesAdded, quantityInOpenCarts: Item.quantityInOpenCarts };
        }),
      );
      wanted = [...skus, ...manySkus].map((sku) => expected.itemPopularity.get(sku));
      if (JSON.stringify(rows) === JSON.stringify(wanted)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(rows).toEqual(wanted);
    expect(expected.itemPopularity.get(manySkus[0]!)).toEqual({ sku: manySkus[0], timesAdded: 1, quantityInOpenCarts: 0 });
  });

  it('a writer that dies half-way through a chunked event (> 99 skus) is finished by the next one, each chunk once', async () => {
    const { resources } = testStack();
    const documents = dynamoDbDocumentClient();
    const run = randomUUID().slice(0, 8);
    const cartId = `chunk-${run}`; // not in the event store and not on the stream: only this test writes it
    const skus = Array.from({ length: 150 }, (_, i) => `C-${run}-${String(i).padStart(3, '0')}`);
    const history: CartEvent[] = [{ type: 'CartOpened', data: {} }, ...skus.map((sku): CartEvent => ({ type: 'ItemAdded', data: { sku, quantity: 3 } })), { type: 'CartClosed', data: {} }];
    const events = stampEvents(cartId, 0, history, new Date(), randomUUID);
    const noStore = { readStream: async () => ({ events: [], version: 0 }) };
    const popularity = (client: DynamoDBDocumentClient) => new DynamoDbItemPopularityTable(client, resources.itemPopularityTable);

    await new CartProjections([popularity(documents)], noStore).apply(events.slice(0, -1));
    let transactions = 0;
    const dying = {
      send: (command: unknown) => {
        if (command instanceof TransactWriteCommand && ++transactions === 2) return Promise.reject(new Error('killed after the first chunk'));
        return documents.send(command as never);
      },
    } as unknown as DynamoDBDocumentClient;
    await expect(new CartProjections([popularity(dying)], noStore).apply(events.slice(-1))).rejects.toThrow(/killed/);
    const half = await documents.send(new GetCommand({ TableName: resources.itemPopularityTable, Key: { pk: `CART#${cartId}` } }));
    expect(half.Item).toMatchObject({ version: 151, pendingVersion: 152, pendingChunks: 1 });

    const report = await new CartProjections([popularity(documents)], noStore).apply(events);
    expect(report.projections['item-popularity']).toMatchObject({ applied: 1, skipped: 151 });
    const expected = foldProjections(events).itemPopularity;
    for (const sku of [skus[0]!, skus[98]!, skus[99]!, skus[149]!]) {
      const { Item } = await documents.send(new GetCommand({ TableName: resources.itemPopularityTable, Key: { pk: skuRowKey(sku) } }));
      expect({ sku: Item?.sku, timesAdded: Item?.timesAdded, quantityInOpenCarts: Item?.quantityInOpenCarts }).toEqual(expected.get(sku));
    }
  });

  it('a cart cursor written in the older layout (lines as a list under `items`) is read and carried on', async () => {
    const { resources } = testStack();
    const documents = dynamoDbDocumentClient();
    const run = randomUUID().slice(0, 8);
    const cartId = `legacy-${run}`; // not in the event store: only this test writes it
    const [kept, closed] = [`L-${run}-kept`, `L-${run}-closed`];
    const history: CartEvent[] = [{ type: 'CartOpened', data: {} }, { type: 'ItemAdded', data: { sku: kept, quantity: 2 } }, { type: 'ItemAdded', data: { sku: closed, quantity: 5 } }];
    const events = stampEvents(cartId, 0, [...history, { type: 'CartClosed', data: {} }], new Date(), randomUUID);
    const popularity = new DynamoDbItemPopularityTable(documents, resources.itemPopularityTable);
    const noStore = { readStream: async () => ({ events: [], version: 0 }) };
    await new CartProjections([popularity], noStore).apply(events.slice(0, 3));
    // Rewrite the cursor as the layout before the string form stored it.
    await documents.send(new PutCommand({ TableName: resources.itemPopularityTable, Item: { pk: `CART#${cartId}`, cartId, version: 3, status: 'OPEN', items: [{ sku: kept, quantity: 2 }, { sku: closed, quantity: 5 }] } }));

    // Closing the cart takes its lines out of quantityInOpenCarts: only right if the old lines were read.
    const report = await new CartProjections([popularity], noStore).apply(events);
    expect(report.projections['item-popularity']).toMatchObject({ applied: 1, skipped: 3 });
    const expected = foldProjections(events).itemPopularity;
    for (const sku of [kept, closed]) {
      const { Item } = await documents.send(new GetCommand({ TableName: resources.itemPopularityTable, Key: { pk: skuRowKey(sku) } }));
      expect({ sku: Item?.sku, timesAdded: Item?.timesAdded, quantityInOpenCarts: Item?.quantityInOpenCarts }).toEqual(expected.get(sku));
    }
    const { Item: cursor } = await documents.send(new GetCommand({ TableName: resources.itemPopularityTable, Key: { pk: `CART#${cartId}` } }));
    expect(cursor).toMatchObject({ version: 4, status: 'CLOSED' });
    expect(cursor?.items).toBeUndefined();
  });

  it('deletes the rows whose key starts with a prefix, and only those', async () => {
    const { resources } = testStack();
    const documents = dynamoDbDocumentClient();
    const run = randomUUID().slice(0, 8);
    const doomed = Array.from({ length: 30 }, (_, i) => `gone-${run}-${i}`);
    const kept = [`kept-${run}`, `gone${run}`];
    for (const cartId of [...doomed, ...kept]) {
      await documents.send(new PutCommand({ TableName: resources.cartSummaryTable, Item: { cartId, status: 'OPEN', items: [], totalQuantity: 0, version: 1 } }));
    }
    expect(await deleteItemsWithKeyPrefix(documents, resources.cartSummaryTable, 'cartId', `gone-${run}-`)).toBe(doomed.length);
    for (const cartId of doomed) expect((await documents.send(new GetCommand({ TableName: resources.cartSummaryTable, Key: { cartId } }))).Item).toBeUndefined();
    for (const cartId of kept) expect((await documents.send(new GetCommand({ TableName: resources.cartSummaryTable, Key: { cartId } }))).Item).toBeDefined();
    await expect(deleteItemsWithKeyPrefix(documents, resources.cartSummaryTable, 'cartId', '')).rejects.toThrow(RangeError);
  });
});

