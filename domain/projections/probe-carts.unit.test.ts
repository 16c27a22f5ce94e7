import type { EventEnvelope } from '../events';
import { PROBE_CART_ID_PREFIX } from '../cart';
import { foldProjections } from './fold';

const ORDINARY = '3f6c1e9a-2b7d-4c8e-9a1b-5d4e3f2a1b0c';
const PROBE = `${PROBE_CART_ID_PREFIX}2b7d-4c8e-9a1b-5d4e3f2a1b0c`;

function events(cartId: string, sku: string): EventEnvelope[] {
  const base = { aggregateType: 'Cart', aggregateId: cartId, schemaVersion: 1, occurredAt: '2026-12-05T08:00:00.000Z' };
  return [
    { ...base, eventId: `${cartId}-1`, version: 1, type: 'CartOpened', data: {} },
    { ...base, eventId: `${cartId}-2`, version: 2, type: 'ItemAdded', data: { sku, quantity: 2 } },
  ];
}

describe('probe carts in the read models', () => {
  it('leaves a probe cart out of the top items, but keeps its cart summary (verify reads it back)', () => {
    const folded = foldProjections([...events(ORDINARY, 'teapot'), ...events(PROBE, 'teapot'), ...events(PROBE, 'probe-only')]);
    expect([...folded.itemPopularity.values()]).toEqual([{ sku: 'teapot', timesAdded: 1, quantityInOpenCarts: 2 }]);
    expect(folded.cartSummaries.get(PROBE)).toMatchObject({ version: 2 });
  });
});
