import type { Quantity, Sku } from './values';

export interface CartLine {
  readonly sku: Sku;
  readonly quantity: Quantity;
  /** The item's display name, when an ItemAdded of this sku carried one (events lifted from the seed). */
  readonly name?: string;
}

export type CartState =
  | { readonly status: 'NONE' }
  | { readonly status: 'OPEN' | 'CLOSED'; readonly items: readonly CartLine[] };

export const initialCartState: CartState = { status: 'NONE' };

export function quantityOf(state: CartState, sku: Sku): number {
  if (state.status === 'NONE') return 0;
  return state.items.find((line) => line.sku === sku)?.quantity ?? 0;
}
