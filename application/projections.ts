import type { EventEnvelope } from '../domain/events';
import { advanceCursor, EMPTY_CURSOR, isCartEnvelope, toVersionedCartEvent, type CartCursor, type VersionedCartEvent } from '../domain/projections';
import type { EventStore } from './event-store';
import { CartSequencer, mapLimit, type CartOutcome, type SequencedConsumer, type SequencerOptions } from './sequencer';

export { MissingHistoryError, ProjectionContentionError } from './sequencer';

export const PROJECTION_NAMES = ['cart-summary', 'item-popularity'] as const;
export type ProjectionName = (typeof PROJECTION_NAMES)[number];

export function isProjectionName(name: string): name is ProjectionName {
  return (PROJECTION_NAMES as readonly string[]).includes(name);
}

/**
 * One projection's storage (port). Each keeps a cursor per cart (last applied version + folded cart state)
 * and moves it only by a conditional write, so two writers (a live consumer and a replay, or a retry racing
 * its first attempt) can never apply one event twice. The cursor is the projection's sequencer position.
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
  /**
   * Optional: several carts' runs at once, each with applyRun's meaning and result (in the same order). A store
   * that can write many carts per request (a transaction of conditional writes) saves a round trip per cart.
   */
  applyRuns?(runs: readonly CartRun[]): Promise<{ applied: number }[]>;
  /** Optional: several carts' cursors at once, strongly consistent; a cart with nothing applied may be absent. */
  readCursors?(cartIds: readonly string[]): Promise<Map<string, CartCursor>>;
}

/** One cart's contiguous run to apply over the cursor it was computed from. */
export interface CartRun {
  readonly cartId: string;
  readonly from: CartCursor;
  readonly run: readonly VersionedCartEvent[];
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
  /** How many carts' single-cart reads, writes or catch-ups run at once when a table has no multi-cart call. */
  readonly cartConcurrency?: number;
  /** How many carts' cursors are remembered between calls (a guess only: every decision is confirmed). */
  readonly cursorCacheSize?: number;
  /** Conflicting writers re-read and retry; after this many conflicts on one cart the call fails. */
  readonly maxConflicts?: number;
}

/**
 * Applies cart events to the projections, exactly once per (projection, cart, version), whatever the delivery
 * order, duplication or concurrency: each projection is a consumer of its own CartSequencer (sequencer.ts), which
 * skips duplicates, catches gaps up from the event store and writes conditionally on the stored cursor.
 */
export class CartProjections {
  private readonly tables: Map<ProjectionName, ProjectionTable>;
  private readonly sequencers: Map<ProjectionName, CartSequencer<CartCursor>>;

  constructor(tables: readonly ProjectionTable[], eventStore: Pick<EventStore, 'readStream'>, options: CartProjectionsOptions = {}) {
    this.tables = new Map(tables.map((table) => [table.name, table]));
    const sequencerOptions: SequencerOptions = {
      ...(options.cartConcurrency !== undefined ? { cartConcurrency: options.cartConcurrency } : {}),
      ...(options.cursorCacheSize !== undefined ? { positionCacheSize: options.cursorCacheSize } : {}),
      ...(options.maxConflicts !== undefined ? { maxConflicts: options.maxConflicts } : {}),
    };
    this.sequencers = new Map(tables.map((table) => [table.name, new CartSequencer(projectionConsumer(table, sequencerOptions.cartConcurrency ?? 16), eventStore, sequencerOptions)]));
  }

  get names(): ProjectionName[] {
    return [...this.tables.keys()];
  }

  /**
   * Applies envelopes (any order, any duplicates, any carts) to the named projections (default: all), side by side.
   * Throws if any cart fails; the carts that succeeded stay applied, and a retry of the whole call skips them.
   */
  async apply(envelopes: readonly EventEnvelope[], names: readonly ProjectionName[] = this.names): Promise<ApplyReport> {
    const counts = Object.fromEntries(names.map((name) => [name, { applied: 0, skipped: 0, caughtUp: 0, ignored: 0 }])) as Record<ProjectionName, ProjectionCounts>;
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
    const outcomes = await Promise.all(names.map(async (name) => [name, await this.sequencer(name).deliver(byCart)] as const));
    let firstError: unknown;
    for (const [name, perCart] of outcomes) {
      for (const [cartId, outcome] of perCart) {
        if ('error' in outcome) {
          firstError ??= outcome.error;
          continue;
        }
        const c = counts[name];
        c.applied += outcome.handled;
        c.skipped += outcome.skipped + (byCart.get(cartId)!.length - outcome.events);
        c.caughtUp += outcome.caughtUp;
      }
    }
    if (firstError !== undefined) throw firstError;
    return { events: envelopes.length, projections: counts };
  }

  /**
   * One envelope, as a stream consumer applies it record by record: `applied`, `duplicate` (in every projection)
   * or `ignored`. The records of one batch, handled concurrently, are applied together (see CartSequencer.offer).
   */
  async applyOne(envelope: EventEnvelope, names: readonly ProjectionName[] = this.names): Promise<EventOutcome> {
    if (!isCartEnvelope(envelope)) return 'ignored';
    const outcomes = await Promise.all(names.map((name) => this.sequencer(name).offer(envelope)));
    return outcomes.every((outcome) => outcome === 'duplicate') ? 'duplicate' : 'applied';
  }

  /** Wipes one projection; later events rebuild it from scratch (catching up from the event store). */
  async reset(name: ProjectionName): Promise<{ deleted: number }> {
    const result = await this.table(name).reset();
    this.sequencer(name).forget();
    return result;
  }

  private table(name: ProjectionName): ProjectionTable {
    const table = this.tables.get(name);
    if (!table) throw new RangeError(`unknown projection "${name}"; known: ${this.names.join(', ')}`);
    return table;
  }

  private sequencer(name: ProjectionName): CartSequencer<CartCursor> {
    this.table(name);
    return this.sequencers.get(name)!;
  }
}

/** A projection table as a sequenced consumer: its cursor is the position, its conditional run write the handling. */
function projectionConsumer(table: ProjectionTable, concurrency: number): SequencedConsumer<CartCursor> {
  return {
    name: table.name,
    initialPosition: EMPTY_CURSOR,
    async readPositions(cartIds) {
      if (table.readCursors) return table.readCursors(cartIds);
      const cursors = await mapLimit(cartIds, concurrency, (cartId) => table.readCursor(cartId));
      return new Map(cartIds.map((cartId, index) => [cartId, cursors[index]!]));
    },
    async handleRuns(runs) {
      // Lifting to the current schema throws UnknownEventError: a projection never skips such an event silently.
      const cartRuns = runs.map(({ cartId, from, events }) => ({ cartId, from, run: events.map(toVersionedCartEvent) }));
      const results = table.applyRuns ? await table.applyRuns(cartRuns) : await mapLimit(cartRuns, concurrency, ({ cartId, from, run }) => table.applyRun(cartId, from, run));
      return results.map(({ applied }) => ({ handled: applied }));
    },
    positionAfter: (from, events) => advanceCursor(from, events.map(toVersionedCartEvent)),
  };
}

export type { CartOutcome };
export { EMPTY_CURSOR };
