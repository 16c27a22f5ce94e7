/**
 * Key schemas of the projection tables, shared by the adapters, the local stack (local/resources.ts) and CDK.
 *
 * cart-summary: one item per cart.
 *   cartId (S, partition key)  status (S)  items (L of {sku, quantity, name?})  totalQuantity (N)  version (N)  updatedAt (S)
 *
 * item-popularity: two kinds of item in one table, so that one transaction moves both.
 *   pk = "CART#<cartId>": the projection's cursor for that cart: cartId (S), version (N), status (S), lines (S: a JSON
 *                         array of [sku, quantity]; cursors written before it have items (L) instead);
 *                         pendingVersion / pendingChunks while an event touching > 99 skus is applied in chunks.
 *   pk = "SKU#<sku>":     sku (S), timesAdded (N), quantityInOpenCarts (N), board = "SKU" (S).
 *   GSI byTimesAdded (board, timesAdded): the ranking for GET /read/items/top; cart items lack `board`, so the
 *   index holds sku rows only.
 */
export const CART_SUMMARY_KEY = { partitionKey: 'cartId' } as const;

export const ITEM_POPULARITY_KEY = { partitionKey: 'pk' } as const;

export const ITEM_POPULARITY_RANKING = {
  indexName: 'byTimesAdded',
  partitionKey: 'board',
  sortKey: 'timesAdded',
  board: 'SKU',
} as const;

export const cartCursorKey = (cartId: string) => `CART#${cartId}`;
export const skuRowKey = (sku: string) => `SKU#${sku}`;

/**
 * The generation pointer (domain/projections/generations.ts) is one item of the cart-summary table under this key:
 * revision (N), projections (M of {live, building?, buildingBy?, previous?}). Generations > 0 keep their rows in
 * the same tables under the key prefix `#gen<N>#`; cart ids starting with `#gen` are therefore reserved.
 */
export const GENERATION_POINTER_KEY = '#generations';
