import type { VersionedCartEvent } from './cart-projection';
import { popularityDeltas, rankItems } from './item-popularity';

const at = (version: number, event: VersionedCartEvent['event']): VersionedCartEvent => ({ version, eventId: `e${version}`, event });

describe('item popularity deltas', () => {
  it('counts adds, and moves quantities out of open carts on removal and on close', () => {
    const opened = popularityDeltas({ status: 'NONE' }, [at(1, { type: 'CartOpened', data: {} }), at(2, { type: 'ItemAdded', data: { sku: 'A', quantity: 3 } }), at(3, { type: 'ItemAdded', data: { sku: 'A', quantity: 1 } })]);
    expect(opened.deltas).toEqual([{ sku: 'A', timesAdded: 2, quantityInOpenCarts: 4 }]);
    expect(popularityDeltas(opened.after, [at(4, { type: 'ItemRemoved', data: { sku: 'A', quantity: 1 } })]).deltas).toEqual([{ sku: 'A', timesAdded: 0, quantityInOpenCarts: -1 }]);
    expect(popularityDeltas(opened.after, [at(4, { type: 'CartClosed', data: {} })]).deltas).toEqual([{ sku: 'A', timesAdded: 0, quantityInOpenCarts: -4 }]);
  });

  it('ranks by times added, ties by sku', () => {
    const rows = [
      { sku: 'b', timesAdded: 2, quantityInOpenCarts: 0 },
      { sku: 'a', timesAdded: 2, quantityInOpenCarts: 0 },
      { sku: 'c', timesAdded: 3, quantityInOpenCarts: 1 },
    ];
    expect(rankItems(rows, 2).map((r) => r.sku)).toEqual(['c', 'a']);
  });
});
