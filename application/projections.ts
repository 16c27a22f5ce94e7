import type { EventEnvelope } from '../domain/events';
import {
  advanceCursor,
  checkVersion,
  EMPTY_CURSOR,
  isCartEnvelope,
  toVersionedCartEvent,
  type CartCursor,
  type VersionedCartEvent,
} from '../domain/projections';
import type { EventStore } from './event-store';

export const PROJECTION_NAMES = ['cart-summary', 'item-popularity'] as const;
export type ProjectionName = (typeof PROJECTION_NAMES)[number];

export function isProjectionName(name: string): name is ProjectionName {
  return (PROJECTION_NAMES as readonly string[]).includes(name);
}

/**
 * One projection's storage (port). Each keeps a cursor per cart (last applied version + folded cart state)
 * and moves it only by a conditional write, so two writers (a live consumer and a replay, or a retry racing
 * its first attempt) can never apply one event twice.
 */
export interface ProjectionTable {
  readonly name: ProjectionName;
  /** The cart's cursor as stored now (strongly consistent); EMPTY_CURSOR when nothing is applied. */
  readCursor(cartId: string): Promise<CartCursor>;
  /**
   * Applies a contiguous run (versions from.version+1, ...) if the stored cursor is still `from`. The store
   * may split the run into several conditional steps; it returns how many events it applied before a step
   * found the cursor moved (all of them when nothing raced).
   */
  applyRun(cartId: string, from: CartCursor, run: readonly VersionedCartEvent[]): Promise<{ applied: number }>;
  /** Deletes every row of the projection. */
  reset(): Promise<{ deleted: number }>;
}

/** An event that skips ahead and whose missing predecessors the event store does not have either. */
export class MissingHistoryError extends Error {
  override readonly name = 'MissingHistoryError';
  constructor(
    readonly cartId: string,
    readonly missingFrom: number,
    readonly missingTo: number,
  ) {
    super(`cart ${cartId}: versions ${missingFrom}..${missingTo} are missing from the event store; the event is retried later`);
  }
}

export class ProjectionContentionError extends Error {
  override readonly name = 'ProjectionContentionError';
}

export type EventOutcome = 'applied' | 'duplicate' | 'ignored';

export interface ProjectionCounts {
  /** Input events this call applied (directly, or as part of a catch-up). */
  applied: number;
  /** Input events at or below the stored version: applied before, skipped now. */
  skipped: number;
  /** Events read from the event store to fill gaps before an input event (not counted in `applied`). */
  caughtUp: number;
  /** Input events that are not cart events. */
  ignored: number;
}

export interface ApplyReport {
  readonly events: number;
  readonly projections: Partial<Record<ProjectionName, ProjectionCounts>>;
}

export interface CartProjectionsOptions {
  /** How many carts one apply call works on at once (each cart's events stay in order). */
  readonly cartConcurrency?: number;
  /** How many carts' cursors are remembered between calls (a guess only: every decision is confirmed). */
  readonly cursorCacheSize?: number;
  /** Conflicting writers re-read and retry; after this many conflicts on one cart the call fails. */
  readonly maxConflicts?: number;
}

const MAX_RUN_LENGTH = 100;

/**
 * Applies cart events to the projections, exactly once per (projection, cart, version), whatever the delivery
 * order, duplication or concurrency:
 *  - an event at or below the stored version is a duplicate and is skipped;
 *  - an event that skips ahead makes the projection CATCH UP from the event store first (the source of truth),
 *    reading the missing versions; if the store lacks them too, the event fails with MissingHistoryError;
 *  - every write is conditional on the cursor it was computed from; a lost race re-reads and goes on.
 * A remembered cursor is only a guess for the next write's condition: a duplicate or a gap is always
 * confirmed by a fresh read before anything is skipped or caught up.
 */
export class CartProjections {
  private readonly tables: Map<ProjectionName, ProjectionTable>;
  private readonly cursors = new Map<string, CartCursor>();
  private readonly queued = new Map<string, { envelope: EventEnvelope; resolve: (outcome: EventOutcome) => void; reject: (error: unknown) => void }[]>();
  private readonly cartConcurrency: number;
  private readonly cursorCacheSize: number;
  private readonly maxConflicts: number;

  constructor(
    tables: readonly ProjectionTable[],
    private readonly eventStore: Pick<EventStore, 'readStream'>,
    options: CartProjectionsOptions = {},
  ) {
    this.tables = new Map(tables.map((table) => [table.name, table]));
    this.cartConcurrency = options.cartConcurrency ?? 16;
    this.cursorCacheSize = options.cursorCacheSize ?? 10_000;
    this.maxConflicts = options.maxConflicts ?? 20;
  }

  get names(): ProjectionName[] {
    return [...this.tables.keys()];
  }

  /**
   * Applies envelopes (any order, any duplicates, any carts) to the named projections (default: all).
   * Each cart's events are applied in version order; carts run concurrently. Throws if any cart fails; the
   * carts that succeeded stay applied, and a retry of the whole call skips them as duplicates.
   */
  async apply(envelopes: readonly EventEnvelope[], names: readonly ProjectionName[] = this.names): Promise<ApplyReport> {
    const tables = names.map((name) => this.table(name));
    const counts = Object.fromEntries(names.map((name) => [name, { applied: 0, skipped: 0, caughtUp: 0, ignored: 0 }])) as Record<
      ProjectionName,
      ProjectionCounts
    >;
    const byCart = new Map<string, EventEnvelope[]>();
    for (const envelope of envelopes) {
      if (!isCartEnvelope(envelope)) {
        for (const name of names) counts[name].ignored++;
        continue;
      }
      const list = byCart.get(envelope.aggregateId) ?? [];
      list.push(envelope);
      byCart.set(envelope.aggregateId, list);
    }
    const carts = [...byCart.entries()];
    const errors: unknown[] = [];
    let next = 0;
    const worker = async () => {
      while (next < carts.length) {
        const [cartId, cartEnvelopes] = carts[next++]!;
        try {
          const events = inVersionOrder(cartEnvelopes);
          await Promise.all(
            tables.map(async (table) => {
              const result = await this.applyToCart(table, cartId, events);
              const c = counts[table.name];
              c.applied += result.applied;
              c.skipped += result.skipped + (cartEnvelopes.length - events.length);
              c.caughtUp += result.caughtUp;
            }),
          );
        } catch (error) {
          errors.push(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.cartConcurrency, carts.length) }, worker));
    if (errors.length > 0) throw errors[0];
    return { events: envelopes.length, projections: counts };
  }

  /**
   * One envelope, as a stream consumer applies it record by record: `applied`, `duplicate` (in every projection)
   * or `ignored`. Calls for one cart that arrive while that cart is being written are queued and applied
   * together as one run (one conditional write per projection), in version order; a failure fails the whole run.
   */
  applyOne(envelope: EventEnvelope, names: readonly ProjectionName[] = this.names): Promise<EventOutcome> {
    if (!isCartEnvelope(envelope)) return Promise.resolve('ignored');
    const key = `${names.join(',')}\u0000${envelope.aggregateId}`;
    return new Promise<EventOutcome>((resolve, reject) => {
      const queue = this.queued.get(key);
      if (queue) {
        queue.push({ envelope, resolve, reject });
        return;
      }
      this.queued.set(key, [{ envelope, resolve, reject }]);
      void this.drain(key, envelope.aggregateId, names);
    });
  }

  private async drain(key: string, cartId: string, names: readonly ProjectionName[]): Promise<void> {
    // Give the other records of this batch (started in the same tick) the chance to join the run.
    await Promise.resolve();
    for (;;) {
      const waiting = this.queued.get(key) ?? [];
      if (waiting.length === 0) {
        this.queued.delete(key);
        return;
      }
      this.queued.set(key, []);
      try {
        const duplicates = await this.applyCartRun(cartId, waiting.map((w) => w.envelope), names);
        const seen = new Set<number>();
        for (const { envelope, resolve } of waiting) {
          const again = seen.has(envelope.version);
          seen.add(envelope.version);
          resolve(again || duplicates.has(envelope.version) ? 'duplicate' : 'applied');
        }
      } catch (error) {
        for (const { reject } of waiting) reject(error);
      }
    }
  }

  /** Applies one cart's envelopes to the named projections; returns the versions every projection had already. */
  private async applyCartRun(cartId: string, envelopes: readonly EventEnvelope[], names: readonly ProjectionName[]): Promise<Set<number>> {
    const events = inVersionOrder(envelopes);
    const results = await Promise.all(names.map((name) => this.applyToCart(this.table(name), cartId, events)));
    return new Set(events.map((e) => e.version).filter((version) => results.every((r) => r.duplicates.has(version))));
  }

  /** Wipes one projection; later events rebuild it from scratch (catching up from the event store). */
  async reset(name: ProjectionName): Promise<{ deleted: number }> {
    const result = await this.table(name).reset();
    for (const key of [...this.cursors.keys()]) if (key.startsWith(`${name}\u0000`)) this.cursors.delete(key);
    return result;
  }

  private table(name: ProjectionName): ProjectionTable {
    const table = this.tables.get(name);
    if (!table) throw new RangeError(`unknown projection "${name}"; known: ${this.names.join(', ')}`);
    return table;
  }

  private async applyToCart(
    table: ProjectionTable,
    cartId: string,
    events: readonly VersionedCartEvent[],
  ): Promise<{ applied: number; skipped: number; caughtUp: number; duplicates: Set<number> }> {
    const cacheKey = `${table.name}\u0000${cartId}`;
    let cursor = this.cursors.get(cacheKey);
    let confirmed = false;
    if (!cursor) {
      cursor = await table.readCursor(cartId);
      confirmed = true;
    }
    let applied = 0;
    let skipped = 0;
    let caughtUp = 0;
    let conflicts = 0;
    let i = 0;
    const duplicates = new Set<number>();
    const reread = async () => {
      cursor = await table.readCursor(cartId);
      confirmed = true;
    };
    while (i < events.length) {
      const head = events[i]!;
      const check = checkVersion(cursor.version, head.version);
      if (check.kind !== 'next' && !confirmed) {
        await reread();
        continue;
      }
      if (check.kind === 'duplicate') {
        skipped++;
        duplicates.add(head.version);
        i++;
        continue;
      }
      let prefix: VersionedCartEvent[] = [];
      if (check.kind === 'gap') prefix = await this.missingHistory(cartId, check.missingFrom, check.missingTo);
      const run = [...prefix];
      let j = i;
      while (j < events.length && run.length < MAX_RUN_LENGTH && events[j]!.version === cursor.version + run.length + 1) run.push(events[j++]!);
      const from = cursor;
      const result = await table.applyRun(cartId, from, run);
      const inputApplied = Math.max(0, result.applied - prefix.length);
      caughtUp += Math.min(result.applied, prefix.length);
      applied += inputApplied;
      i += inputApplied;
      if (result.applied === run.length) {
        cursor = advanceCursor(from, run);
        confirmed = false;
      } else {
        if (++conflicts > this.maxConflicts) {
          throw new ProjectionContentionError(`${table.name}: cart ${cartId} kept moving under this writer (${conflicts} conflicts)`);
        }
        await reread();
      }
    }
    this.remember(cacheKey, cursor);
    return { applied, skipped, caughtUp, duplicates };
  }

  private async missingHistory(cartId: string, from: number, to: number): Promise<VersionedCartEvent[]> {
    const stream = await this.eventStore.readStream(cartId);
    const missing = stream.events.filter((e) => e.version >= from && e.version <= to).sort((a, b) => a.version - b.version);
    if (missing.length !== to - from + 1 || missing.some((e, index) => e.version !== from + index)) {
      throw new MissingHistoryError(cartId, from, to);
    }
    return missing.map(toVersionedCartEvent);
  }

  private remember(key: string, cursor: CartCursor): void {
    this.cursors.delete(key);
    this.cursors.set(key, cursor);
    if (this.cursors.size > this.cursorCacheSize) this.cursors.delete(this.cursors.keys().next().value!);
  }
}

/** One event per version (the first envelope seen wins), in version order, lifted to the current schema. */
function inVersionOrder(envelopes: readonly EventEnvelope[]): VersionedCartEvent[] {
  const byVersion = new Map<number, EventEnvelope>();
  for (const envelope of envelopes) if (!byVersion.has(envelope.version)) byVersion.set(envelope.version, envelope);
  return [...byVersion.values()].sort((a, b) => a.version - b.version).map(toVersionedCartEvent);
}

export { EMPTY_CURSOR };
