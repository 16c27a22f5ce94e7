import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { InMemoryEventStore } from '../../application/in-memory-event-store';
import { createCartApi } from './api';

const CART = '0b7e8f5e-6a55-4c1e-8a3a-1d2f3c4b5a69';

function request(routeKey: string, options: { cartId?: string; sku?: string; body?: string; headers?: Record<string, string>; query?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const [method = 'GET', template = '/'] = routeKey.split(' ');
  const pathParameters: Record<string, string> = {};
  if (options.cartId !== undefined) pathParameters.cartId = options.cartId;
  if (options.sku !== undefined) pathParameters.sku = options.sku;
  const rawPath = template.replace('{cartId}', options.cartId ?? '').replace('{sku}', options.sku ?? '');
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}), ...options.headers },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
    requestContext: { http: { method, path: rawPath } },
    body: options.body,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

async function setUp() {
  const store = new InMemoryEventStore();
  const api = createCartApi({ store, newCartId: () => CART });
  const call = async (...args: Parameters<typeof request>) => {
    const result = await api(request(...args));
    return { status: result.statusCode, headers: result.headers ?? {}, body: JSON.parse(result.body) };
  };
  return { store, call };
}

describe('cart API handler (in memory)', () => {
  it('answers each route with its documented shape', async () => {
    const { call } = await setUp();
    expect(await call('POST /carts')).toMatchObject({ status: 201, body: { cartId: CART, version: 1 }, headers: { location: `/carts/${CART}`, etag: '"1"' } });
    expect(await call('POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"A-1","quantity":2}' })).toMatchObject({ status: 200, body: { cartId: CART, version: 2 } });
    expect(await call('POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"B"}' })).toMatchObject({ status: 200, body: { cartId: CART, version: 3 } });
    expect(await call('DELETE /carts/{cartId}/items/{sku}', { cartId: CART, sku: 'A-1', query: { quantity: '1' } })).toMatchObject({ status: 200, body: { version: 4 } });
    expect(await call('POST /carts/{cartId}/close', { cartId: CART })).toMatchObject({ status: 200, body: { version: 5 } });
    expect(await call('GET /carts/{cartId}', { cartId: CART })).toEqual({
      status: 200,
      headers: expect.objectContaining({ etag: '"5"' }),
      body: { cartId: CART, status: 'CLOSED', items: [{ sku: 'A-1', quantity: 1 }, { sku: 'B', quantity: 1 }], version: 5 },
    });
  });

  it('opens a probe cart under the reserved id prefix when asked, and never hands that prefix to an ordinary cart', async () => {
    const store = new InMemoryEventStore();
    const ids = ['00000000-6a55-4c1e-8a3a-1d2f3c4b5a69', CART];
    const api = createCartApi({ store, newCartId: () => ids.shift()! });
    const open = async (body?: string) => JSON.parse((await api(request('POST /carts', body === undefined ? {} : { body }))).body).cartId as string;
    // The generator's one-in-2^32 draw inside the reserved range is moved out of it for an ordinary cart.
    expect(await open()).toBe('10000000-6a55-4c1e-8a3a-1d2f3c4b5a69');
    expect(await open('{"probe":true}')).toBe('00000000-6a55-4c1e-8a3a-1d2f3c4b5a69');
  });

  it('names a keyed command by its query string too: the same key with another ?quantity is another command', async () => {
    const store = new InMemoryEventStore();
    const api = createCartApi({ store, newCartId: () => CART });
    await api(request('POST /carts'));
    await api(request('POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"A","quantity":3}' }));
    const remove = (quantity: string) => ({
      ...request('DELETE /carts/{cartId}/items/{sku}', { cartId: CART, sku: 'A', query: { quantity }, headers: { 'idempotency-key': 'k-1' } }),
      rawQueryString: `quantity=${quantity}`,
    });
    expect(JSON.parse((await api(remove('1'))).body)).toEqual({ cartId: CART, version: 3 });
    // Not the first command's retry (its stored answer would be version 3 and nothing removed): applied.
    expect(JSON.parse((await api(remove('2'))).body)).toEqual({ cartId: CART, version: 4 });
    // The same request again is that command's retry: recognised in the store, nothing appended.
    expect(JSON.parse((await api(remove('2'))).body)).toEqual({ cartId: CART, version: 4 });
    expect((await store.readStream(CART)).events.map((e) => [e.type, e.data])).toEqual([
      ['CartOpened', {}],
      ['ItemAdded', { sku: 'A', quantity: 3 }],
      ['ItemRemoved', { sku: 'A', quantity: 1 }],
      ['ItemRemoved', { sku: 'A', quantity: 2 }],
    ]);
  });

  // Each bad request: its status, its code, a word its message must contain, and nothing appended.
  const badRequests: [string, Parameters<typeof request>, number, string, RegExp][] = [
    ['malformed JSON', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":' }], 400, 'MALFORMED_JSON', /not valid JSON/],
    ['a JSON array', ['POST /carts/{cartId}/items', { cartId: CART, body: '[1]' }], 400, 'INVALID_REQUEST', /JSON object, not an array/],
    ['a wrong type', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"A","quantity":"2"}' }], 400, 'INVALID_REQUEST', /quantity/],
    ['a missing sku', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"quantity":2}' }], 400, 'INVALID_REQUEST', /sku is required/],
    ['an unknown field', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"A","colour":"red"}' }], 400, 'INVALID_REQUEST', /unknown field "colour"/],
    ['a bad sku', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"a b"}' }], 400, 'INVALID_REQUEST', /sku/],
    ['a 65-character sku', ['POST /carts/{cartId}/items', { cartId: CART, body: JSON.stringify({ sku: 'x'.repeat(65) }) }], 400, 'INVALID_REQUEST', /sku/],
    ['quantity 0', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"A","quantity":0}' }], 400, 'INVALID_REQUEST', /quantity must be at least 1/],
    ['quantity 1001', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"A","quantity":1001}' }], 400, 'INVALID_REQUEST', /quantity must be at most 1000/],
    ['quantity 1.5', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"A","quantity":1.5}' }], 400, 'INVALID_REQUEST', /integer/],
    ['a bad ?quantity', ['DELETE /carts/{cartId}/items/{sku}', { cartId: CART, sku: 'A', query: { quantity: 'many' } }], 400, 'INVALID_REQUEST', /quantity/],
    ['an unknown query field', ['DELETE /carts/{cartId}/items/{sku}', { cartId: CART, sku: 'A', query: { qty: '1' } }], 400, 'INVALID_REQUEST', /unknown field "qty"/],
    ['a bad sku in the path', ['DELETE /carts/{cartId}/items/{sku}', { cartId: CART, sku: 'a/b' }], 400, 'INVALID_REQUEST', /sku/],
    ['a body on close', ['POST /carts/{cartId}/close', { cartId: CART, body: '{"now":true}' }], 400, 'INVALID_REQUEST', /unknown field "now"/],
    ['a bad If-Match', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"A"}', headers: { 'if-match': 'yesterday' } }], 400, 'INVALID_IF_MATCH', /If-Match/],
    ['a body that is not JSON', ['POST /carts/{cartId}/items', { cartId: CART, body: 'sku=A', headers: { 'content-type': 'text/plain' } }], 415, 'UNSUPPORTED_MEDIA_TYPE', /JSON/],
    ['a body over 64 KB', ['POST /carts/{cartId}/items', { cartId: CART, body: JSON.stringify({ sku: 'A', pad: 'x'.repeat(65 * 1024) }) }], 413, 'PAYLOAD_TOO_LARGE', /65536 bytes/],
    ['a body over 64 KB on DELETE', ['DELETE /carts/{cartId}/items/{sku}', { cartId: CART, sku: 'A', body: 'x'.repeat(65 * 1024) }], 413, 'PAYLOAD_TOO_LARGE', /bytes/],
    ['an unknown cart id', ['GET /carts/{cartId}', { cartId: '5d1e2c3b-0000-4000-8000-000000000000' }], 404, 'CART_NOT_FOUND', /does not exist/],
    ['a cart id that is no UUID', ['GET /carts/{cartId}', { cartId: 'nope' }], 404, 'CART_NOT_FOUND', /"nope" does not exist/],
    ['probe: false', ['POST /carts', { body: '{"probe":false}' }], 400, 'INVALID_REQUEST', /probe/],
    ['an unknown field on open', ['POST /carts', { body: '{"owner":"me"}' }], 400, 'INVALID_REQUEST', /unknown field "owner"/],
    ['an unknown route', ['$default', {}], 404, 'ROUTE_NOT_FOUND', /no route/],
    ['removing what is not there', ['DELETE /carts/{cartId}/items/{sku}', { cartId: CART, sku: 'ZZZ' }], 409, 'ITEM_NOT_IN_CART', /ZZZ/],
    ['a stale If-Match', ['POST /carts/{cartId}/items', { cartId: CART, body: '{"sku":"A"}', headers: { 'if-match': '"7"' } }], 412, 'VERSION_MISMATCH', /version 7/],
  ];

  it.each(badRequests)('refuses %s with its status and JSON error, appending nothing', async (_what, args, status, code, message) => {
    const { store, call } = await setUp();
    await call('POST /carts');
    const before = store.appends.length;
    const response = await call(...args);
    expect(response).toMatchObject({ status, body: { error: { code, message: expect.stringMatching(message) } } });
    expect(Object.keys(response.body)).toEqual(['error']);
    expect(store.appends.length).toBe(before);
  });
});
