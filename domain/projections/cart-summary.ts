import type { CartLine } from '../cart';
import { linesOf, type CartCursor } from './cart-projection';

/**
 * The `cart-summary` read model: one row per cart, as GET /read/carts/{cartId} returns it. Lines keep their
 * first-added order (as the cart itself does); totalQuantity is the sum of the lines.
 */
export interface CartSummary {
  readonly cartId: string;
  readonly status: 'OPEN' | 'CLOSED';
  readonly items: readonly CartLine[];
  readonly totalQuantity: number;
  readonly version: number;
}

/** Undefined until the cart's first event is applied: a cart that does not exist has no summary. */
export function toCartSummary(cartId: string, cursor: CartCursor): CartSummary | undefined {
  if (cursor.version === 0 || cursor.state.status === 'NONE') return undefined;
  const items = linesOf(cursor.state);
  return {
    cartId,
    status: cursor.state.status,
    items,
    totalQuantity: items.reduce((sum, line) => sum + line.quantity, 0),
    version: cursor.version,
  };
}
