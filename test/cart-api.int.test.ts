import { api } from './support/local-stack';

describe('cart API over HTTP', () => {
  it('opens a cart, adds and removes items, and closes it', async () => {
    const opened = await api('POST', '/carts');
    expect(opened.status).toBe(201);
    const { cartId } = opened.body;
    expect(opened.body).toEqual({ cartId, version: 1 });
    expect(opened.headers.get('location')).toBe(`/carts/${cartId}`);

    expect((await api('POST', `/carts/${cartId}/items`, { body: { sku: 'SKU-1', quantity: 3 } })).body).toEqual({ cartId, version: 2 });
    expect((await api('POST', `/carts/${cartId}/items`, { body: { sku: 'SKU-2' } })).body).toEqual({ cartId, version: 3 });
    expect((await api('DELETE', `/carts/${cartId}/items/SKU-1?quantity=1`)).body).toEqual({ cartId, version: 4 });
    expect((await api('POST', `/carts/${cartId}/close`)).body).toEqual({ cartId, version: 5 });

    const cart = await api('GET', `/carts/${cartId}`);
    expect(cart.status).toBe(200);
    expect(cart.body).toEqual({
      cartId,
      status: 'CLOSED',
      items: [
        { sku: 'SKU-1', quantity: 2 },
        { sku: 'SKU-2', quantity: 1 },
      ],
      version: 5,
    });
  });

  it('reports healthy when every local component is ready', async () => {
    const health = await api('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
  });
});
