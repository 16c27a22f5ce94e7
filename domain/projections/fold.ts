import type { EventEnvelope } from '../events';
import { foldCart, isCartEnvelope, toVersionedCartEvent, type CartCursor, type VersionedCartEvent } from './cart-projection';
import { toCartSummary, type CartSummary } from './cart-summary';
import { addDeltas, businessDeltas, popularityDeltas, type ItemPopularity } from './item-popularity';

export interface FoldedProjections {
  readonly cartSummaries: Map<string, CartSummary>;
  readonly itemPopularity: Map<string, ItemPopularity>;
}

/**
 * Both projections computed from scratch: each cart's events once per version, in version order. This is the
 * reference the stored projections must equal whatever the delivery order, duplication or replay.
 */
export function foldProjections(envelopes: Iterable<EventEnvelope>): FoldedProjections {
  const byCart = new Map<string, Map<number, VersionedCartEvent>>();
  for (const envelope of envelopes) {
    if (!isCartEnvelope(envelope)) continue;
    const events = byCart.get(envelope.aggregateId) ?? new Map<number, VersionedCartEvent>();
    if (!events.has(envelope.version)) events.set(envelope.version, toVersionedCartEvent(envelope));
    byCart.set(envelope.aggregateId, events);
  }
  const cartSummaries = new Map<string, CartSummary>();
  const itemPopularity = new Map<string, ItemPopularity>();
  for (const [cartId, events] of byCart) {
    const sorted = [...events.values()].sort((a, b) => a.version - b.version);
    const cursor: CartCursor = foldCart(sorted);
    const summary = toCartSummary(cartId, cursor);
    if (summary) cartSummaries.set(cartId, summary);
    addDeltas(itemPopularity, businessDeltas(cartId, popularityDeltas({ status: 'NONE' }, sorted).deltas));
  }
  return { cartSummaries, itemPopularity };
}
