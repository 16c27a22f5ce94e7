import type { CartSummary, ItemPopularity } from '../domain/projections';

/** What the read API reads (port): the projections as rows, never the event store. */
export interface ReadModels {
  cartSummary(cartId: string): Promise<CartSummary | undefined>;
  /** Most added skus first, ties by sku; at most `limit`. */
  topItems(limit: number): Promise<ItemPopularity[]>;
}

export const TOP_ITEMS_DEFAULT_LIMIT = 10;
export const TOP_ITEMS_MAX_LIMIT = 100;
