import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { ReadModels } from '../../application/read-models';
import { createReadApi } from './api';

const cartId = '6f1c1d8e-3a55-4a57-9a43-0c2b8f0d4a11';
const readModels: ReadModels = {
  cartSummary: async (id) => (id === cartId ? { cartId, status: 'OPEN', items: [{ sku: 'A', quantity: 2 }], totalQuantity: 2, version: 3 } : undefined),
  topItems: async (limit) => [{ sku: 'A', timesAdded: 5, quantityInOpenCarts: 2 }].slice(0, limit),
};
const api = createReadApi(readModels);
const get = (routeKey: string, pathParameters?: Record<string, string>, queryStringParameters?: Record<string, string>) =>
  api({ routeKey, pathParameters, queryStringParameters, requestContext: { http: { method: 'GET' } } } as unknown as APIGatewayProxyEventV2);

describe('read API', () => {
  it('returns a projected cart with exactly the documented fields', async () => {
    const result = await get('GET /read/carts/{cartId}', { cartId });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual({ cartId, status: 'OPEN', items: [{ sku: 'A', quantity: 2 }], totalQuantity: 2, version: 3 });
  });

  it('answers 404 for a cart not projected and 400 for a cart id that is not a UUID', async () => {
    expect(JSON.parse((await get('GET /read/carts/{cartId}', { cartId: '00000000-0000-4000-8000-000000000000' })).body).error.code).toBe('CART_NOT_FOUND');
    expect((await get('GET /read/carts/{cartId}', { cartId: 'x' })).statusCode).toBe(400);
  });

  it.each([
    [undefined, 200, 10],
    [{ limit: '1' }, 200, 1],
    [{ limit: '100' }, 200, 100],
  ])('top items with %p', async (query, status, limit) => {
    const result = await get('GET /read/items/top', undefined, query);
    expect(result.statusCode).toBe(status);
    expect(JSON.parse(result.body).limit).toBe(limit);
  });

  it.each(['0', '101', '-1', '1.5', 'ten', ''])('refuses limit=%p with a 400 JSON error', async (limit) => {
    const result = await get('GET /read/items/top', undefined, { limit });
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body).error).toEqual({ code: 'INVALID_REQUEST', message: expect.stringContaining('limit') });
  });
});
