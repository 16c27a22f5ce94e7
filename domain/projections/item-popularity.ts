import { evolve, isProbeCartId, type CartState } from '../cart';
import { linesOf, type VersionedCartEvent } from './cart-projection';

/** The `item-popularity` read model: one row per sku, summed over every cart. */
export interface ItemPopularity {
  readonly sku: string;
  /** How many ItemAdded events named this sku, in any cart, open or closed since. */
  readonly timesAdded: number;
  /** The quantity of this sku in carts that are open now (closing a cart takes its lines out). */
  readonly quantityInOpenCarts: number;
}

/** What one cart's events change in the sku rows. Only non-zero changes are listed, sorted by sku. */
export interface SkuDelta {
  readonly sku: string;
  readonly timesAdded: number;
  readonly quantityInOpenCarts: number;
}

/**
 * The change a run of one cart's events makes to the sku rows, from the cart's state before the run.
 * `quantityInOpenCarts` is derived from the cart states before and after (the lines of an OPEN cart count,
 * those of a CLOSED one do not), so it stays right whatever the event types do to the lines.
 */
export function popularityDeltas(before: CartState, events: readonly VersionedCartEvent[]): { after: CartState; deltas: SkuDelta[] } {
  const timesAdded = new Map<string, number>();
  let after = before;
  for (const { event } of events) {
    if (event.type === 'ItemAdded') timesAdded.set(event.data.sku, (timesAdded.get(event.data.sku) ?? 0) + 1);
    after = evolve(after, event);
  }
  const open = new Map<string, number>();
  for (const [state, sign] of [
    [before, -1],
    [after, 1],
  ] as const) {
    if (state.status !== 'OPEN') continue;
    for (const line of linesOf(state)) open.set(line.sku, (open.get(line.sku) ?? 0) + sign * line.quantity);
  }
  const skus = new Set([...timesAdded.keys(), ...open.keys()]);
  const deltas = [...skus]
    .sort()
    .map((sku) => ({ sku, timesAdded: timesAdded.get(sku) ?? 0, quantityInOpenCarts: open.get(sku) ?? 0 }))
    .filter((delta) => delta.timesAdded !== 0 || delta.quantityInOpenCarts !== 0);
  return { after, deltas };
}

/**
 * What a cart's deltas count for in the business ranking: nothing for a probe cart (domain/cart/probe-carts.ts),
 * which `cdc-cart verify` and the canary open to prove the pipeline. Its cursor still moves like any cart's.
 */
export function businessDeltas(cartId: string, deltas: SkuDelta[]): SkuDelta[] {
  return isProbeCartId(cartId) ? [] : deltas;
}

/** Adds deltas into rows (the from-scratch fold and in-memory stores use it; DynamoDB does it with ADD). */
export function addDeltas(rows: Map<string, ItemPopularity>, deltas: readonly SkuDelta[]): void {
  for (const delta of deltas) {
    const row = rows.get(delta.sku) ?? { sku: delta.sku, timesAdded: 0, quantityInOpenCarts: 0 };
    rows.set(delta.sku, {
      sku: delta.sku,
      timesAdded: row.timesAdded + delta.timesAdded,
      quantityInOpenCarts: row.quantityInOpenCarts + delta.quantityInOpenCarts,
    });
  }
}

/** Most added first; ties by sku, so the order is total and every reader agrees on it. */
export function rankItems(rows: Iterable<ItemPopularity>, limit: number): ItemPopularity[] {
  return [...rows].sort((a, b) => b.timesAdded - a.timesAdded || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0)).slice(0, limit);
}
