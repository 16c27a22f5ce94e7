import type { EventEnvelope } from '../domain/events';
import { GenerationConflict, generationsOf, INITIAL_POINTER, readGenerations, writeOrder, type CartSummary, type GenerationPointer, type ItemPopularity } from '../domain/projections';
import type { ApplyReport, CartProjections, EventOutcome, ProjectionCounts, ProjectionName } from './projections';
import type { ReadModels } from './read-models';

/** Where the generation pointer is kept (port): read strongly consistent, written only over the revision read. */
export interface GenerationPointerStore {
  read(): Promise<GenerationPointer>;
  /** false when the stored revision is no longer `expectedRevision` (someone else changed it first). */
  write(next: GenerationPointer, expectedRevision: number): Promise<boolean>;
}

/**
 * How long a process may use a pointer it read: the consumers and the read API re-read it at most this often.
 * Every rebuild step that changes what others must see waits twice this long before relying on it.
 */
export const POINTER_CACHE_MS = 1_000;

/**
 * The longest one invocation of a process that reads the pointer may run (the projections consumer and the read
 * API: infra/constructs/registry-functions.ts gives them at most this timeout, and a test holds it there). A write
 * or read begun with a pointer has ended, or its invocation was killed, this long after it began.
 */
export const POINTER_USER_TIMEOUT_MS = 30_000;

/** The pointer, re-read at most every `ttlMs`; never replaced by an older revision than one already used. */
export class CachedGenerationPointer {
  private cached?: { pointer: GenerationPointer; readAt: number };
  private reading?: Promise<GenerationPointer>;

  constructor(
    private readonly store: Pick<GenerationPointerStore, 'read'>,
    private readonly ttlMs = POINTER_CACHE_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async current(): Promise<GenerationPointer> {
    if (this.cached && this.now() - this.cached.readAt < this.ttlMs) return this.cached.pointer;
    this.reading ??= this.refresh().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async refresh(): Promise<GenerationPointer> {
    const readAt = this.now();
    const read = await this.store.read();
    const pointer = this.cached && this.cached.pointer.revision > read.revision ? this.cached.pointer : read;
    this.cached = { pointer, readAt };
    return pointer;
  }
}

/** Applies a pointer change computed from the stored pointer, re-reading when another writer got there first. */
export async function changePointer<T>(store: GenerationPointerStore, change: (pointer: GenerationPointer) => { pointer: GenerationPointer; result: T }): Promise<T> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const stored = await store.read();
    const { pointer, result } = change(stored);
    if (pointer === stored || (await store.write(pointer, stored.revision))) return result;
  }
  throw new GenerationConflict('the generation pointer kept changing under 20 attempts to update it');
}

/**
 * The projections across generations, as the live consumer and a replay write them: each event goes to the
 * generation a rebuild is building (if any) and then to the live one, per projection, as the pointer says.
 */
export class GenerationalProjections {
  constructor(
    private readonly pointer: CachedGenerationPointer,
    private readonly projectionsOf: (generation: number) => CartProjections,
    readonly names: readonly ProjectionName[],
  ) {}

  /** One envelope, as a stream consumer applies it: `duplicate` only when every generation had it already. */
  async applyOne(envelope: EventEnvelope, names: readonly ProjectionName[] = this.names): Promise<EventOutcome> {
    let outcome: EventOutcome = 'duplicate';
    for (const step of writeOrder(await this.pointer.current(), names)) {
      const result = await this.projectionsOf(step.generation).applyOne(envelope, step.projections as ProjectionName[]);
      if (result === 'ignored') return 'ignored';
      if (result === 'applied') outcome = 'applied';
    }
    return outcome;
  }

  /** Envelopes into one generation (a rebuild), or, without one, into every generation the consumers write. */
  async apply(envelopes: readonly EventEnvelope[], names: readonly ProjectionName[], generation?: number): Promise<ApplyReport> {
    if (generation !== undefined) return this.projectionsOf(generation).apply(envelopes, names);
    const reports: ApplyReport[] = [];
    for (const step of writeOrder(await this.pointer.current(), names)) {
      reports.push(await this.projectionsOf(step.generation).apply(envelopes, step.projections as ProjectionName[]));
    }
    return { events: envelopes.length, projections: sumCounts(reports) };
  }

  /** The projections of one generation (a rebuild's catch-up and retirement work on one). */
  of(generation: number): CartProjections {
    return this.projectionsOf(generation);
  }
}

function sumCounts(reports: readonly ApplyReport[]): ApplyReport['projections'] {
  const total: Partial<Record<ProjectionName, ProjectionCounts>> = {};
  for (const report of reports) {
    for (const [name, counts] of Object.entries(report.projections) as [ProjectionName, ProjectionCounts][]) {
      const sum = (total[name] ??= { applied: 0, skipped: 0, caughtUp: 0, ignored: 0 });
      sum.applied += counts.applied;
      sum.skipped += counts.skipped;
      sum.caughtUp += counts.caughtUp;
      sum.ignored += counts.ignored;
    }
  }
  return total;
}

/** One generation's rows as the read API reads them. */
export interface GenerationReadModels {
  cartSummary(cartId: string): Promise<CartSummary | undefined>;
  topItems(limit: number): Promise<ItemPopularity[]>;
}

/**
 * The read API across generations: a cart is read from every generation the pointer names (live, building,
 * previous, retiring: in parallel) and the highest version wins. Every generation only moves forward and holds only states
 * the cart really had, so the answer never goes backwards and never misses a cart the live generation has,
 * whether this process still uses the pointer from before a switch or already the one after it. The ranking
 * comes from the live generation.
 */
export class GenerationalReadModels implements ReadModels {
  constructor(
    private readonly pointer: CachedGenerationPointer,
    private readonly readModelsOf: (generation: number) => GenerationReadModels,
  ) {}

  async cartSummary(cartId: string): Promise<CartSummary | undefined> {
    const generations = readGenerations(generationsOf(await this.pointer.current(), 'cart-summary'));
    const found = await Promise.all(generations.map((generation) => this.readModelsOf(generation).cartSummary(cartId)));
    return found.reduce<CartSummary | undefined>((best, summary) => (summary && (!best || summary.version > best.version) ? summary : best), undefined);
  }

  async topItems(limit: number): Promise<ItemPopularity[]> {
    return this.readModelsOf(generationsOf(await this.pointer.current(), 'item-popularity').live).topItems(limit);
  }
}

/** Projections that only ever have generation 0 (no pointer is stored): unit tests and tools that rebuild nothing. */
export function singleGeneration(projections: CartProjections): GenerationalProjections {
  return new GenerationalProjections(new CachedGenerationPointer({ read: async () => INITIAL_POINTER }), () => projections, projections.names);
}
