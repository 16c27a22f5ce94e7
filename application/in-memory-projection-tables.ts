import {
  addDeltas,
  businessDeltas,
  advanceCursor,
  EMPTY_CURSOR,
  popularityDeltas,
  toCartSummary,
  type CartCursor,
  type CartSummary,
  type ItemPopularity,
  type VersionedCartEvent,
} from '../domain/projections';
import type { ProjectionTable } from './projections';

/**
 * The two projection tables in memory, with the same conditional semantics as the DynamoDB adapters
 * (a run is applied only if the stored cursor is still the one it was computed from). For property tests and
 * for proving replay orders; `beforeWrite` lets a test interleave concurrent writers.
 */
export class InMemoryCartSummaryTable implements ProjectionTable {
  readonly name = 'cart-summary' as const;
  readonly cursors = new Map<string, CartCursor>();

  constructor(private readonly beforeWrite: () => Promise<void> = async () => undefined) {}

  async readCursor(cartId: string): Promise<CartCursor> {
    await this.beforeWrite();
    return this.cursors.get(cartId) ?? EMPTY_CURSOR;
  }

  async applyRun(cartId: string, from: CartCursor, run: readonly VersionedCartEvent[]): Promise<{ applied: number }> {
    await this.beforeWrite();
    if ((this.cursors.get(cartId) ?? EMPTY_CURSOR).version !== from.version) return { applied: 0 };
    this.cursors.set(cartId, advanceCursor(from, run));
    return { applied: run.length };
  }

  async reset(): Promise<{ deleted: number }> {
    const deleted = this.cursors.size;
    this.cursors.clear();
    return { deleted };
  }

  summaries(): Map<string, CartSummary> {
    const result = new Map<string, CartSummary>();
    for (const [cartId, cursor] of this.cursors) {
      const summary = toCartSummary(cartId, cursor);
      if (summary) result.set(cartId, summary);
    }
    return result;
  }
}

export class InMemoryItemPopularityTable implements ProjectionTable {
  readonly name = 'item-popularity' as const;
  readonly cursors = new Map<string, CartCursor>();
  readonly rows = new Map<string, ItemPopularity>();

  constructor(private readonly beforeWrite: () => Promise<void> = async () => undefined) {}

  async readCursor(cartId: string): Promise<CartCursor> {
    await this.beforeWrite();
    return this.cursors.get(cartId) ?? EMPTY_CURSOR;
  }

  /** One event per step, as the DynamoDB adapter may split a run: a race can land between steps. */
  async applyRun(cartId: string, from: CartCursor, run: readonly VersionedCartEvent[]): Promise<{ applied: number }> {
    let cursor = from;
    for (const [index, event] of run.entries()) {
      await this.beforeWrite();
      if ((this.cursors.get(cartId) ?? EMPTY_CURSOR).version !== cursor.version) return { applied: index };
      const { deltas } = popularityDeltas(cursor.state, [event]);
      cursor = advanceCursor(cursor, [event]);
      this.cursors.set(cartId, cursor);
      addDeltas(this.rows, businessDeltas(cartId, deltas));
    }
    return { applied: run.length };
  }

  async reset(): Promise<{ deleted: number }> {
    const deleted = this.cursors.size + this.rows.size;
    this.cursors.clear();
    this.rows.clear();
    return { deleted };
  }
}
