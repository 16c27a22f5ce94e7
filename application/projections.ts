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
  /** How many carts' single-cart reads, writes or catch-ups run at once when a table has no multi-cart call. */
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
  private readonly queued = new Map<string, QueuedGroup>();
  private readonly writing = new Set<string>();
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
   * Each cart's events are applied in version order; the carts go together, so a table that can write several
   * carts in one request (applyRuns) does. Throws if any cart fails; the carts that succeeded stay applied, and
   * a retry of the whole call skips them as duplicates.
   */
  async apply(envelopes: readonly EventEnvelope[], names: readonly ProjectionName[] = this.names): Promise<ApplyReport> {
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
    const outcomes = await this.applyCarts(byCart, names);
    let firstError: unknown;
    for (const [name, perCart] of outcomes) {
      for (const [cartId, outcome] of perCart) {
        if ('error' in outcome) {
          firstError ??= outcome.error;
          continue;
        }
        const c = counts[name];
        c.applied += outcome.applied;
        c.skipped += outcome.skipped + (byCart.get(cartId)!.length - outcome.events);
        c.caughtUp += outcome.caughtUp;
      }
    }
    if (firstError !== undefined) throw firstError;
    return { events: envelopes.length, projections: counts };
  }

  /**
   * One envelope, as a stream consumer applies it record by record: `applied`, `duplicate` (in every projection)
   * or `ignored`. Calls that arrive together (the records of one batch) are applied together: one cart's records
   * as one version-ordered run, several carts in as few writes as the tables allow. A cart's later calls wait
   * until its run in flight is written. A failure fails that cart's calls only.
   */
  applyOne(envelope: EventEnvelope, names: readonly ProjectionName[] = this.names): Promise<EventOutcome> {
    if (!isCartEnvelope(envelope)) return Promise.resolve('ignored');
    const groupKey = names.join(',');
    let group = this.queued.get(groupKey);
    if (!group) this.queued.set(groupKey, (group = { names, carts: new Map(), scheduled: false }));
    return new Promise<EventOutcome>((resolve, reject) => {
      const waiting = group.carts.get(envelope.aggregateId) ?? [];
      waiting.push({ envelope, resolve, reject });
      group.carts.set(envelope.aggregateId, waiting);
      this.scheduleFlush(groupKey, group);
    });
  }

  private scheduleFlush(groupKey: string, group: QueuedGroup): void {
    if (group.scheduled) return;
    group.scheduled = true;
    // After the current macrotask: the other records of this batch (started together) join the same flush.
    setImmediate(() => {
      group.scheduled = false;
      void this.flush(groupKey, group);
    });
  }

  private async flush(groupKey: string, group: QueuedGroup): Promise<void> {
    const batch = new Map<string, QueuedCall[]>();
    for (const [cartId, waiting] of group.carts) {
      const key = `${groupKey}\u0000${cartId}`;
      if (this.writing.has(key)) continue;
      batch.set(cartId, waiting);
      group.carts.delete(cartId);
      this.writing.add(key);
    }
    if (batch.size === 0) return;
    try {
      const byCart = new Map([...batch].map(([cartId, waiting]) => [cartId, waiting.map((w) => w.envelope)]));
      let outcomes: Map<ProjectionName, Map<string, CartOutcome>> | undefined;
      let failure: unknown;
      try {
        outcomes = await this.applyCarts(byCart, group.names);
      } catch (error) {
        failure = error;
      }
      for (const [cartId, waiting] of batch) {
        const perTable = outcomes ? [...outcomes.values()].map((perCart) => perCart.get(cartId)!) : [];
        const error = failure ?? perTable.find((o): o is { error: unknown } => 'error' in o)?.error;
        if (error !== undefined) {
          for (const { reject } of waiting) reject(error);
          continue;
        }
        const duplicates = perTable as CartResult[];
        const seen = new Set<number>();
        for (const { envelope, resolve } of waiting) {
          const again = seen.has(envelope.version);
          seen.add(envelope.version);
          resolve(again || duplicates.every((r) => r.duplicates.has(envelope.version)) ? 'duplicate' : 'applied');
        }
      }
    } finally {
      for (const cartId of batch.keys()) this.writing.delete(`${groupKey}\u0000${cartId}`);
      if (group.carts.size > 0) this.scheduleFlush(groupKey, group);
    }
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

  /** Every cart's envelopes to every named projection (the projections side by side): an outcome per cart. */
  private async applyCarts(byCart: ReadonlyMap<string, readonly EventEnvelope[]>, names: readonly ProjectionName[]) {
    const tables = names.map((name) => this.table(name));
    const events = new Map([...byCart].map(([cartId, envelopes]) => [cartId, inVersionOrder(envelopes)]));
    const results = await Promise.all(tables.map(async (table) => [table.name, await this.applyToCarts(table, events)] as const));
    return new Map(results);
  }

  /**
   * Applies each cart's version-ordered events to one projection. The carts advance in lock-step rounds: the
   * cursors nobody knows are read (together), every cart's next run is planned (duplicates skipped and gaps
   * caught up only on a confirmed cursor), and the runs are written (together). A run whose conditional write
   * lost (the cursor moved, or the guess was wrong) is re-planned from a fresh read in the next round.
   */
  private async applyToCarts(table: ProjectionTable, carts: ReadonlyMap<string, readonly VersionedCartEvent[]>): Promise<Map<string, CartOutcome>> {
    const works: CartWork[] = [...carts].map(([cartId, events]) => {
      const cached = this.cursors.get(`${table.name}\u0000${cartId}`);
      // Not cached and starting at version 1: most likely a cart this projection has not seen. Only a guess for
      // the write's condition (the run's first write fails if anything is stored); a skip or a catch-up never
      // relies on it.
      const cursor = cached ?? (events[0]?.version === 1 ? EMPTY_CURSOR : undefined);
      return { cartId, events, i: 0, cursor, confirmed: false, conflicts: 0, applied: 0, skipped: 0, caughtUp: 0, duplicates: new Set<number>() };
    });
    const active = () => works.filter((w) => w.error === undefined && w.i < w.events.length);
    for (let live = active(); live.length > 0; live = active()) {
      const unknown = live.filter((w) => w.cursor === undefined);
      if (unknown.length > 0) {
        try {
          const read = await this.readCursors(table, unknown.map((w) => w.cartId));
          for (const w of unknown) Object.assign(w, { cursor: read.get(w.cartId) ?? EMPTY_CURSOR, confirmed: true });
        } catch (error) {
          for (const w of unknown) w.error = error;
          continue;
        }
      }
      const planned = await mapLimit(live, this.cartConcurrency, async (w) => {
        try {
          return await this.planRun(w);
        } catch (error) {
          w.error = error;
          return undefined;
        }
      });
      const runs = planned.filter((p): p is PlannedRun => p !== undefined);
      if (runs.length === 0) continue;
      let results: { applied: number }[];
      try {
        results = await this.applyRuns(table, runs.map(({ work, from, run }) => ({ cartId: work.cartId, from, run })));
      } catch (error) {
        for (const { work } of runs) work.error = error;
        continue;
      }
      runs.forEach(({ work: w, from, run, prefix }, index) => {
        const applied = results[index]!.applied;
        const inputApplied = Math.max(0, applied - prefix);
        w.caughtUp += Math.min(applied, prefix);
        w.applied += inputApplied;
        w.i += inputApplied;
        if (applied === run.length) {
          w.cursor = advanceCursor(from, run);
          w.confirmed = false;
        } else if (++w.conflicts > this.maxConflicts) {
          w.error = new ProjectionContentionError(`${table.name}: cart ${w.cartId} kept moving under this writer (${w.conflicts} conflicts)`);
        } else {
          w.cursor = undefined; // re-read in the next round
        }
      });
    }
    const outcomes = new Map<string, CartOutcome>();
    for (const w of works) {
      if (w.error !== undefined) {
        outcomes.set(w.cartId, { error: w.error });
        continue;
      }
      if (w.cursor) this.remember(`${table.name}\u0000${w.cartId}`, w.cursor);
      outcomes.set(w.cartId, { events: w.events.length, applied: w.applied, skipped: w.skipped, caughtUp: w.caughtUp, duplicates: w.duplicates });
    }
    return outcomes;
  }

  /**
   * The cart's next run from its cursor: duplicates at its head skipped, a gap filled from the event store.
   * Undefined when there is nothing to write this round (all done, or the cursor must be confirmed first).
   */
  private async planRun(w: CartWork): Promise<PlannedRun | undefined> {
    while (w.i < w.events.length) {
      const cursor = w.cursor!;
      const head = w.events[w.i]!;
      const check = checkVersion(cursor.version, head.version);
      if (check.kind !== 'next' && !w.confirmed) {
        w.cursor = undefined; // a guess never decides a skip or a catch-up
        return undefined;
      }
      if (check.kind === 'duplicate') {
        w.skipped++;
        w.duplicates.add(head.version);
        w.i++;
        continue;
      }
      const run = check.kind === 'gap' ? await this.missingHistory(w.cartId, check.missingFrom, check.missingTo) : [];
      const prefix = run.length;
      let j = w.i;
      while (j < w.events.length && run.length < MAX_RUN_LENGTH && w.events[j]!.version === cursor.version + run.length + 1) run.push(w.events[j++]!);
      return { work: w, from: cursor, run, prefix };
    }
    return undefined;
  }

  private async readCursors(table: ProjectionTable, cartIds: readonly string[]): Promise<Map<string, CartCursor>> {
    if (table.readCursors) return table.readCursors(cartIds);
    const cursors = await mapLimit(cartIds, this.cartConcurrency, (cartId) => table.readCursor(cartId));
    return new Map(cartIds.map((cartId, index) => [cartId, cursors[index]!]));
  }

  private async applyRuns(table: ProjectionTable, runs: readonly CartRun[]): Promise<{ applied: number }[]> {
    if (table.applyRuns) return table.applyRuns(runs);
    return mapLimit(runs, this.cartConcurrency, ({ cartId, from, run }) => table.applyRun(cartId, from, run));
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

interface QueuedCall {
  readonly envelope: EventEnvelope;
  readonly resolve: (outcome: EventOutcome) => void;
  readonly reject: (error: unknown) => void;
}

interface QueuedGroup {
  readonly names: readonly ProjectionName[];
  readonly carts: Map<string, QueuedCall[]>;
  scheduled: boolean;
}

interface CartResult {
  /** Distinct versions among the cart's input envelopes. */
  readonly events: number;
  readonly applied: number;
  readonly skipped: number;
  readonly caughtUp: number;
  readonly duplicates: Set<number>;
}

type CartOutcome = CartResult | { readonly error: unknown };

/** One cart's progress through applyToCarts: `cursor` undefined = must be read before the next plan. */
interface CartWork {
  readonly cartId: string;
  readonly events: readonly VersionedCartEvent[];
  i: number;
  cursor: CartCursor | undefined;
  confirmed: boolean;
  conflicts: number;
  applied: number;
  skipped: number;
  caughtUp: number;
  readonly duplicates: Set<number>;
  error?: unknown;
}

interface PlannedRun {
  readonly work: CartWork;
  readonly from: CartCursor;
  readonly run: VersionedCartEvent[];
  /** How many events at the run's head come from the event store (a catch-up), not from the input. */
  readonly prefix: number;
}

/** `work` over every item, at most `limit` at a time; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** One event per version (the first envelope seen wins), in version order, lifted to the current schema. */
function inVersionOrder(envelopes: readonly EventEnvelope[]): VersionedCartEvent[] {
  const byVersion = new Map<number, EventEnvelope>();
  for (const envelope of envelopes) if (!byVersion.has(envelope.version)) byVersion.set(envelope.version, envelope);
  return [...byVersion.values()].sort((a, b) => a.version - b.version).map(toVersionedCartEvent);
}

export { EMPTY_CURSOR };
