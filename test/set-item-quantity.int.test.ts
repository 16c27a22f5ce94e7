import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDbDocumentClient } from '../adapters/aws-clients';
import { ITEM_POPULARITY_KEY, skuRowKey } from '../adapters/dynamodb/projection-tables';
import { archivedLines, eventLogLines, eventually } from './support/consumers';
import { api, retriedCommand, testStack } from './support/local-stack';

/**
 * `PUT /carts/{cartId}/items/{sku}` end to end on the test stack: the command over HTTP, its event through the CDC,
 * Kinesis and the consumers into both read models, the event log and the archive. The CDC, the archive and replay
 * carry `ItemQuantityChanged` with no code of their own: this test is what says so.
 */
jest.setTimeout(240_000);

describe('setting a line\'s quantity', () => {
  it('is recorded once, answers the stored version when unchanged, and reaches the read models, the event log and the archive', async () => {
    const { cartId } = (await retriedCommand('POST', '/carts')).body as { cartId: string };
    // A sku of its own, so that the ranking row below counts this cart alone.
    const sku = `SET-${cartId.slice(0, 8)}`.toUpperCase();
    const put = (quantity: unknown, headers: Record<string, string> = {}) => api('PUT', `/carts/${cartId}/items/${sku}`, { body: { quantity }, headers });

    const added = await put(3);
    expect({ status: added.status, body: added.body, etag: added.headers.get('etag') }).toEqual({ status: 200, body: { cartId, version: 2 }, etag: '"2"' });
    expect((await put(5, { 'If-Match': '"2"' })).body).toEqual({ cartId, version: 3 });
    // The same quantity again records nothing and answers the version in the store.
    const unchanged = await put(5);
    expect({ status: unchanged.status, body: unchanged.body }).toEqual({ status: 200, body: { cartId, version: 3 } });
    // A stated version the cart has moved past is refused, and so is a quantity out of range.
    expect((await put(7, { 'If-Match': '"2"' })).status).toBe(412);
    expect((await put(0)).body).toEqual({ error: { code: 'INVALID_REQUEST', message: expect.stringMatching(/quantity/) } });
    // A keyed retry gets the first answer back and appends nothing.
    // Sent as a careful client does (retried on 503 or 409 IDEMPOTENT_REQUEST_IN_PROGRESS: see cart-api.int.test.ts).
    const keyed = await retriedCommand('PUT', `/carts/${cartId}/items/${sku}`, { quantity: 4 }, { key: `set-${cartId}` });
    expect(keyed.body).toEqual({ cartId, version: 4 });
    expect((await put(4, { 'Idempotency-Key': `set-${cartId}` })).body).toEqual({ cartId, version: 4 });

    const cart = await api('GET', `/carts/${cartId}`);
    expect(cart.body).toEqual({ cartId, status: 'OPEN', items: [{ sku, quantity: 4 }], version: 4 });

    // Both read models: the cart's summary, and the sku's ranking row (added once, 4 in open carts).
    await eventually('the cart summary at version 4', async () => {
      const read = await api('GET', `/read/carts/${cartId}`);
      return read.status === 200 && read.body.version === 4 ? read : undefined;
    }).then((read) => expect(read.body).toEqual({ cartId, status: 'OPEN', items: [{ sku, quantity: 4 }], totalQuantity: 4, version: 4 }));
    // Other tests share this stack and its ranking, so the sku's row is read by key rather than from the top N.
    const wanted = { sku, timesAdded: 1, quantityInOpenCarts: 4 };
    const row = await eventually('the sku\'s ranking row', async () => {
      const { Item } = await dynamoDbDocumentClient().send(
        new GetCommand({ TableName: testStack().resources.itemPopularityTable, Key: { [ITEM_POPULARITY_KEY.partitionKey]: skuRowKey(sku) } }),
      );
      const found = Item && { sku: String(Item.sku), timesAdded: Number(Item.timesAdded), quantityInOpenCarts: Number(Item.quantityInOpenCarts) };
      return JSON.stringify(found) === JSON.stringify(wanted) ? found : undefined;
    });
    expect(row).toEqual(wanted);

    // The event log and the archive hold each of the cart's events (at least once).
    const logged = await eventually('the event log to hold versions 1-4', async () => {
      const versions = new Set(eventLogLines().filter((line) => line.aggregateId === cartId).map((line) => line.version));
      return [1, 2, 3, 4].every((v) => versions.has(v)) ? versions : undefined;
    });
    expect([...logged].sort()).toEqual([1, 2, 3, 4]);
    const archived = await eventually('the archive to hold versions 1-4', async () => {
      const mine = (await archivedLines()).filter((line) => line.envelope.aggregateId === cartId).map((line) => line.envelope);
      return new Set(mine.map((e) => e.version)).size === 4 ? mine : undefined;
    });
    const changes = archived.filter((e) => e.type === 'ItemQuantityChanged').map((e) => ({ version: e.version, data: e.data }));
    expect(changes.filter((c, i) => changes.findIndex((d) => d.version === c.version) === i).sort((a, b) => a.version - b.version)).toEqual([
      { version: 2, data: { sku, quantity: 3, previousQuantity: 0 } },
      { version: 3, data: { sku, quantity: 5, previousQuantity: 3 } },
      { version: 4, data: { sku, quantity: 4, previousQuantity: 5 } },
    ]);
  });
});
