import { randomUUID } from 'node:crypto';
import { api, retriedCommand, testStack, type ApiResponse } from './support/local-stack';

// Every write this file expects to succeed is sent as a careful client sends it (retriedCommand: an Idempotency-Key,
// and a resend after a 503 or a 409 IDEMPOTENT_REQUEST_IN_PROGRESS). Under chaos (CHAOS=all, as npm test runs) an
// API write is sometimes applied and its answer lost; when the SDK's retry cannot settle it within the API's budget,
// the API answers 503 with Retry-After, as docs/api.md promises: a quiet run's POST /carts once got exactly that.
// Refusals and replays are sent raw: what they answer is what the tests check, and they write nothing.
async function openCart(): Promise<string> {
  const opened = await retriedCommand('POST', '/carts');
  expect(opened.status).toBe(201);
  return opened.body.cartId;
}

async function cartVersion(cartId: string): Promise<number> {
  const cart = await api('GET', `/carts/${cartId}`);
  expect(cart.status).toBe(200);
  return cart.body.version;
}

function expectJsonError(response: ApiResponse, status: number, code: string, message: RegExp): void {
  expect({ status: response.status, body: response.body }).toEqual({ status, body: { error: { code, message: expect.stringMatching(message) } } });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
}

describe('cart API over HTTP', () => {
  it('opens a cart, adds and removes items, and closes it', async () => {
    const opened = await retriedCommand('POST', '/carts');
    expect(opened.status).toBe(201);
    const { cartId } = opened.body;
    expect(opened.body).toEqual({ cartId, version: 1 });
    expect(opened.headers.get('location')).toBe(`/carts/${cartId}`);
    expect(opened.headers.get('etag')).toBe('"1"');

    expect((await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'SKU-1', quantity: 3 })).body).toEqual({ cartId, version: 2 });
    expect((await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'SKU-2' })).body).toEqual({ cartId, version: 3 });
    expect((await retriedCommand('DELETE', `/carts/${cartId}/items/SKU-1?quantity=1`)).body).toEqual({ cartId, version: 4 });
    expect((await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'SKU-3', quantity: 1000 })).body).toEqual({ cartId, version: 5 });
    expect((await retriedCommand('DELETE', `/carts/${cartId}/items/SKU-3`)).body).toEqual({ cartId, version: 6 });
    expect((await retriedCommand('POST', `/carts/${cartId}/close`)).body).toEqual({ cartId, version: 7 });

    const cart = await api('GET', `/carts/${cartId}`);
    expect(cart.status).toBe(200);
    expect(cart.headers.get('etag')).toBe('"7"');
    expect(cart.body).toEqual({
      cartId,
      status: 'CLOSED',
      items: [
        { sku: 'SKU-1', quantity: 2 },
        { sku: 'SKU-2', quantity: 1 },
      ],
      version: 7,
    });
  });

  it('reports healthy when every local component is ready', async () => {
    const health = await api('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(Object.values(health.body.components).every((c: any) => c.ready === true)).toBe(true);
    expect(Object.keys(health.body.components)).toEqual(expect.arrayContaining(['dynamodb', 'api']));
  });

  describe('refuses bad requests with a JSON error, never a 5xx, and writes nothing', () => {
    let cartId: string;
    beforeAll(async () => {
      cartId = await openCart();
      expect((await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'IN-CART', quantity: 2 })).status).toBe(200);
    });
    const json = { 'content-type': 'application/json' };
    const cases: [string, () => [string, string, Parameters<typeof api>[2]], number, string, RegExp][] = [
      ['malformed JSON', () => ['POST', `/carts/${cartId}/items`, { rawBody: '{"sku": "A",', headers: json }], 400, 'MALFORMED_JSON', /not valid JSON/],
      ['a body that is JSON but no object', () => ['POST', `/carts/${cartId}/items`, { rawBody: '"A"', headers: json }], 400, 'INVALID_REQUEST', /JSON object/],
      ['quantity of the wrong type', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A', quantity: '2' } }], 400, 'INVALID_REQUEST', /quantity must be a number/],
      ['sku of the wrong type', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 42 } }], 400, 'INVALID_REQUEST', /sku/],
      ['a missing sku', () => ['POST', `/carts/${cartId}/items`, { body: { quantity: 1 } }], 400, 'INVALID_REQUEST', /sku is required/],
      ['an unknown field', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A', price: 3 } }], 400, 'INVALID_REQUEST', /unknown field "price"/],
      ['an unknown field on POST /carts', () => ['POST', '/carts', { body: { owner: 'me' } }], 400, 'INVALID_REQUEST', /unknown field "owner"/],
      ['a sku with a space', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A B' } }], 400, 'INVALID_REQUEST', /sku must be 1-64 characters/],
      ['an empty sku', () => ['POST', `/carts/${cartId}/items`, { body: { sku: '' } }], 400, 'INVALID_REQUEST', /sku/],
      ['a 65-character sku', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A'.repeat(65) } }], 400, 'INVALID_REQUEST', /sku/],
      ['quantity 0', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A', quantity: 0 } }], 400, 'INVALID_REQUEST', /quantity must be at least 1/],
      ['quantity 1001', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A', quantity: 1001 } }], 400, 'INVALID_REQUEST', /quantity must be at most 1000/],
      ['quantity 2.5', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A', quantity: 2.5 } }], 400, 'INVALID_REQUEST', /quantity must be an integer/],
      ['?quantity=0 on DELETE', () => ['DELETE', `/carts/${cartId}/items/IN-CART?quantity=0`, {}], 400, 'INVALID_REQUEST', /quantity/],
      ['?quantity=abc on DELETE', () => ['DELETE', `/carts/${cartId}/items/IN-CART?quantity=abc`, {}], 400, 'INVALID_REQUEST', /quantity/],
      ['a bad sku in the DELETE path', () => ['DELETE', `/carts/${cartId}/items/bad%20sku`, {}], 400, 'INVALID_REQUEST', /sku/],
      ['a bad If-Match', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A' }, headers: { 'if-match': 'latest' } }], 400, 'INVALID_IF_MATCH', /If-Match/],
      ['an unknown cart', () => ['GET', `/carts/${randomUUID()}`, {}], 404, 'CART_NOT_FOUND', /does not exist/],
      ['adding to an unknown cart', () => ['POST', `/carts/${randomUUID()}/items`, { body: { sku: 'A' } }], 404, 'CART_NOT_FOUND', /does not exist/],
      ['a cart id that is not a UUID', () => ['GET', '/carts/not-a-cart', {}], 404, 'CART_NOT_FOUND', /does not exist/],
      ['an unknown route', () => ['GET', '/nothing/here', {}], 404, 'ROUTE_NOT_FOUND', /no route for GET \/nothing\/here/],
      ['an unknown method on a known path', () => ['PATCH', `/carts/${cartId}`, { body: {} }], 404, 'ROUTE_NOT_FOUND', /no route/],
      ['removing a sku not in the cart', () => ['DELETE', `/carts/${cartId}/items/NOT-THERE`, {}], 409, 'ITEM_NOT_IN_CART', /NOT-THERE/],
      ['removing more than the cart holds', () => ['DELETE', `/carts/${cartId}/items/IN-CART?quantity=3`, {}], 409, 'NOT_ENOUGH_QUANTITY', /holds 2/],
      ['a stale If-Match', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A' }, headers: { 'if-match': '"1"' } }], 412, 'VERSION_MISMATCH', /expected version 1 but the cart is at version 2/],
      ['a body over 64 KB', () => ['POST', `/carts/${cartId}/items`, { body: { sku: 'A', note: 'x'.repeat(64 * 1024) } }], 413, 'PAYLOAD_TOO_LARGE', /65536 bytes/],
      // The local server stops reading such a body early, and still names the API's limit, not its own.
      ['a 10 MB body', () => ['POST', `/carts/${cartId}/items`, { rawBody: 'x'.repeat(10 * 1024 * 1024), headers: json }], 413, 'PAYLOAD_TOO_LARGE', /^the body must be at most 65536 bytes \(64 KB\)$/],
      ['a text/plain body', () => ['POST', `/carts/${cartId}/items`, { rawBody: '{"sku":"A"}', headers: { 'content-type': 'text/plain' } }], 415, 'UNSUPPORTED_MEDIA_TYPE', /application\/json/],
      ['a body without content-type', () => ['POST', `/carts/${cartId}/items`, { rawBody: '{"sku":"A"}' }], 415, 'UNSUPPORTED_MEDIA_TYPE', /JSON/],
    ];

    it.each(cases)('%s', async (_what, build, status, code, message) => {
      const before = await cartVersion(cartId);
      const [method, path, options] = build();
      expectJsonError(await api(method, path, options), status, code, message);
      expect(await cartVersion(cartId)).toBe(before);
    });

    it('a closed cart takes no change (409) and cannot be closed twice', async () => {
      const closed = await openCart();
      expect((await retriedCommand('POST', `/carts/${closed}/close`)).status).toBe(200);
      expectJsonError(await api('POST', `/carts/${closed}/items`, { body: { sku: 'A' } }), 409, 'CART_CLOSED', /closed/);
      expectJsonError(await api('POST', `/carts/${closed}/close`), 409, 'CART_CLOSED', /already closed/);
      expect(await cartVersion(closed)).toBe(2);
    });
  });

  it('takes If-Match as the ETag it handed out, or as a bare version', async () => {
    const cartId = await openCart();
    const added = await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'A' }, { headers: { 'if-match': '"1"' } });
    expect(added.status).toBe(200);
    expect(added.headers.get('etag')).toBe('"2"');
    expect((await retriedCommand('DELETE', `/carts/${cartId}/items/A`, undefined, { headers: { 'if-match': '2' } })).body).toEqual({ cartId, version: 3 });
    expectJsonError(await api('POST', `/carts/${cartId}/close`, { headers: { 'if-match': '"2"' } }), 412, 'VERSION_MISMATCH', /version 3/);
  });

  // The first send of each key is a careful client's (retriedCommand): under chaos's ambiguous-write, 2 % of the
  // API's writes are applied and answered 500, and when that write is the request's own idempotency lock, the SDK's
  // retry finds the lock taken and the API answers 409 IDEMPOTENT_REQUEST_IN_PROGRESS with Retry-After until it
  // expires, as docs/api.md says. The repeats then meet the stored answer, which takes no lock.
  describe('Idempotency-Key', () => {
    it('replays the first response of a repeated AddItem and appends nothing', async () => {
      const cartId = await openCart();
      const key = randomUUID();
      const first = await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'A', quantity: 2 }, { key });
      const again = await api('POST', `/carts/${cartId}/items`, { body: { sku: 'A', quantity: 2 }, headers: { 'Idempotency-Key': key } });
      expect(first).toMatchObject({ status: 200, body: { cartId, version: 2 } });
      expect(again.status).toBe(first.status);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('etag')).toBe(first.headers.get('etag'));
      const cart = await api('GET', `/carts/${cartId}`);
      expect(cart.body).toMatchObject({ version: 2, items: [{ sku: 'A', quantity: 2 }] });

      // Another key is another request.
      expect((await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'A', quantity: 2 })).body.version).toBe(3);
    });

    it('replays POST /carts with the same cart id, opening one cart only', async () => {
      const key = randomUUID();
      const first = await retriedCommand('POST', '/carts', undefined, { key });
      const again = await api('POST', '/carts', { headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(again.headers.get('location')).toBe(first.headers.get('location'));
      expect(await cartVersion(first.body.cartId)).toBe(1);
    });

    it('replays a refusal as a refusal, and refuses the key with another body (422) without appending', async () => {
      const cartId = await openCart();
      const key = randomUUID();
      const refused = await retriedCommand('DELETE', `/carts/${cartId}/items/NOPE`, undefined, { key });
      expectJsonError(refused, 409, 'ITEM_NOT_IN_CART', /NOPE/);
      expect((await api('DELETE', `/carts/${cartId}/items/NOPE`, { headers: { 'idempotency-key': key } })).body).toEqual(refused.body);

      const other = randomUUID();
      expect((await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'A' }, { key: other })).status).toBe(200);
      expectJsonError(await api('POST', `/carts/${cartId}/items`, { body: { sku: 'B' }, headers: { 'idempotency-key': other } }), 422, 'IDEMPOTENCY_KEY_REUSED', /different request body/);
      expect(await cartVersion(cartId)).toBe(2);
    });
  });

  it('lets 40 concurrent AddItem requests without If-Match on one cart all succeed, all 40 lines in the cart', async () => {
    const cartId = await openCart();
    const skus = Array.from({ length: 40 }, (_, i) => `CONCURRENT-${i}`);
    // Each sent as a careful client does: on a busy machine one of 40 writers retrying its conflicts may run past the
    // API's budget and be answered 503 with Retry-After, a defined answer that the client retries with its key.
    const responses = await Promise.all(skus.map((sku) => retriedCommand('POST', `/carts/${cartId}/items`, { sku, quantity: 1 })));
    expect(responses.map((r) => r.status)).toEqual(skus.map(() => 200));
    expect(responses.map((r) => r.body.version).sort((a, b) => a - b)).toEqual(skus.map((_, i) => i + 2));
    const cart = await api('GET', `/carts/${cartId}`);
    expect(cart.body.version).toBe(41);
    expect(cart.body.items).toHaveLength(40);
    expect(cart.body.items.map((line: { sku: string }) => line.sku).sort()).toEqual([...skus].sort());
  }, 120_000);

  it('serves on 127.0.0.1 at the configured API port', () => {
    expect(testStack().apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
