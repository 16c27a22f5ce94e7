import type { EventEnvelope } from '../domain/events';
import type { EventStore } from './event-store';

/**
 * Kinesis delivers at least once and, on AWS, not in version order per cart: the Pipe retries whole batches
 * through the enrichment (duplicates), PutRecords retries put a refused record behind later ones, DynamoDB Streams
 * order records per item only, and a consumer's mapping redelivers a batch after a timeout. The sequencer turns
 * that into what a consumer wants: each cart's events exactly once and in version order.
 *
 * Per consumer and cart it keeps a POSITION (the last version handled, stored by the consumer itself, moved only
 * by a write conditional on the position it was computed from). For each cart's incoming events it:
 *  - drops duplicates: a version at or below the position, or seen twice in the input;
 *  - on a gap (an event ahead of position + 1), catches up from the event store (the source of truth): the
 *    missing versions are read and handed over first; if the store lacks them too, the cart fails with
 *    MissingHistoryError and its records are retried later (held);
 *  - hands the consumer a contiguous run (position + 1, + 2, ...) with the position it continues from;
 *  - when the conditional write finds the position moved (another writer: a redelivery racing its first
 *    attempt, a replay), re-reads and plans again.
 * A remembered position is only a guess for the next write's condition: a skip or a catch-up is always decided
 * on a position read from the consumer's store.
 */
export interface CartPosition {
  /** The last version handled; 0 = nothing yet. */
  readonly version: number;
}

/** A cart's contiguous run of events for a consumer, over the position it continues from. */
export interface SequencedRun<P extends CartPosition> {
  readonly cartId: string;
  readonly from: P;
  /** Versions from.version+1, +2, ..., each once. */
  readonly events: readonly EventEnvelope[];
}

/** What a consumer gives the sequencer: its positions, and the handling of runs conditional on them. */
export interface SequencedConsumer<P extends CartPosition> {
  readonly name: string;
  /** The position of a cart nothing was handled for. */
  readonly initialPosition: P;
  /** Stored positions, strongly consistent; a cart with none may be absent. */
  readPositions(cartIds: readonly string[]): Promise<Map<string, P>>;
  /**
   * Handles each run if the cart's stored position is still `from`, moving it to the run's last version; per run
   * (same order), how many of its events were handled before the position was found moved (all when none raced).
   */
  handleRuns(runs: readonly SequencedRun<P>[]): Promise<readonly { readonly handled: number }[]>;
  /** The position after a run was handled (what the consumer stored). */
  positionAfter(from: P, events: readonly EventEnvelope[]): P;
  /**
   * True for a consumer that performs a run's effect BEFORE its conditional write (claimingConsumer): a run is then
   * handed over only from a position read from the store, never from a remembered one, so that a redelivery of
   * what another writer did already is dropped instead of performed again. (A consumer whose effect and position
   * move in one conditional write may start from a guess: a wrong guess only fails the write.)
   */
  readonly handlesOnlyFromReadPositions?: boolean;
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

/**
 * Other writers kept moving a cart's position under this one (after maxConflicts re-reads). Named after the
 * projections, its first users: the replay's state machine retries it by this name.
 */
export class ProjectionContentionError extends Error {
  override readonly name = 'ProjectionContentionError';
}

export interface SequencerOptions {
  /** How many carts' catch-ups run at once. */
  readonly cartConcurrency?: number;
  /** How many carts' positions are remembered between calls (a guess only: every decision is confirmed). */
  readonly positionCacheSize?: number;
  /** Conflicting writers re-read and retry; after this many conflicts on one cart the cart fails. */
  readonly maxConflicts?: number;
  /** Longest run handed over at once. */
  readonly maxRunLength?: number;
}

export interface CartResult {
  /** Distinct versions among the cart's input events. */
  readonly events: number;
  /** Input events handed to the consumer by this call. */
  readonly handled: number;
  /** Input events the consumer had handled already (duplicates). */
  readonly skipped: number;
  /** Events read from the event store to fill gaps (not counted in `handled`). */
  readonly caughtUp: number;
  readonly duplicates: ReadonlySet<number>;
}

export type CartOutcome = CartResult | { readonly error: unknown };

export type Offered = 'handled' | 'duplicate';

interface CartWork<P extends CartPosition> {
  readonly cartId: string;
  readonly events: readonly EventEnvelope[];
  i: number;
  position: P | undefined;
  confirmed: boolean;
  conflicts: number;
  handled: number;
  skipped: number;
  caughtUp: number;
  readonly duplicates: Set<number>;
  error?: unknown;
}

interface PlannedRun<P extends CartPosition> {
  readonly work: CartWork<P>;
  readonly from: P;
  readonly events: EventEnvelope[];
  /** How many events at the run's head come from the event store (a catch-up), not from the input. */
  readonly prefix: number;
}

interface QueuedCall {
  readonly envelope: EventEnvelope;
  readonly resolve: (outcome: Offered) => void;
  readonly reject: (error: unknown) => void;
}

export class CartSequencer<P extends CartPosition> {
  private readonly positions = new Map<string, P>();
  private readonly queued = new Map<string, QueuedCall[]>();
  private readonly busy = new Set<string>();
  private scheduled = false;
  private readonly cartConcurrency: number;
  private readonly positionCacheSize: number;
  private readonly maxConflicts: number;
  private readonly maxRunLength: number;

  constructor(
    readonly consumer: SequencedConsumer<P>,
    private readonly eventStore: Pick<EventStore, 'readStream'>,
    options: SequencerOptions = {},
  ) {
    this.cartConcurrency = options.cartConcurrency ?? 16;
    this.positionCacheSize = options.positionCacheSize ?? 10_000;
    this.maxConflicts = options.maxConflicts ?? 20;
    this.maxRunLength = options.maxRunLength ?? 100;
  }

  /**
   * Hands every cart's events (any order, any duplicates) to the consumer in version order, each once; the carts
   * go together, so a consumer that can write several carts per request does. An outcome per cart.
   */
  async deliver(byCart: ReadonlyMap<string, readonly EventEnvelope[]>): Promise<Map<string, CartOutcome>> {
    const works: CartWork<P>[] = [...byCart].map(([cartId, envelopes]) => {
      const events = inVersionOrder(envelopes);
      const cached = this.positions.get(cartId);
      // Not cached and starting at version 1: most likely a cart this consumer has not seen. Only a guess for
      // the write's condition; a skip or a catch-up never relies on it.
      const position = cached ?? (events[0]?.version === 1 ? this.consumer.initialPosition : undefined);
      return { cartId, events, i: 0, position, confirmed: false, conflicts: 0, handled: 0, skipped: 0, caughtUp: 0, duplicates: new Set<number>() };
    });
    const active = () => works.filter((w) => w.error === undefined && w.i < w.events.length);
    for (let live = active(); live.length > 0; live = active()) {
      const unknown = live.filter((w) => w.position === undefined);
      if (unknown.length > 0) {
        try {
          const read = await this.consumer.readPositions(unknown.map((w) => w.cartId));
          for (const w of unknown) Object.assign(w, { position: read.get(w.cartId) ?? this.consumer.initialPosition, confirmed: true });
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
      const runs = planned.filter((p): p is PlannedRun<P> => p !== undefined);
      if (runs.length === 0) continue;
      let results: readonly { handled: number }[];
      try {
        results = await this.consumer.handleRuns(runs.map(({ work, from, events }) => ({ cartId: work.cartId, from, events })));
      } catch (error) {
        for (const { work } of runs) work.error = error;
        continue;
      }
      runs.forEach(({ work: w, from, events, prefix }, index) => {
        const handled = results[index]!.handled;
        const inputHandled = Math.max(0, handled - prefix);
        w.caughtUp += Math.min(handled, prefix);
        w.handled += inputHandled;
        w.i += inputHandled;
        if (handled === events.length) {
          w.position = this.consumer.positionAfter(from, events);
          w.confirmed = false;
        } else if (++w.conflicts > this.maxConflicts) {
          w.error = new ProjectionContentionError(`${this.consumer.name}: cart ${w.cartId} kept moving under this writer (${w.conflicts} conflicts)`);
        } else {
          w.position = undefined; // re-read in the next round
        }
      });
    }
    const outcomes = new Map<string, CartOutcome>();
    for (const w of works) {
      if (w.error !== undefined) {
        outcomes.set(w.cartId, { error: w.error });
        continue;
      }
      if (w.position) this.remember(w.cartId, w.position);
      outcomes.set(w.cartId, { events: w.events.length, handled: w.handled, skipped: w.skipped, caughtUp: w.caughtUp, duplicates: w.duplicates });
    }
    return outcomes;
  }

  /**
   * One event, as a stream consumer's record handler sees it: resolves `handled` or `duplicate`, rejects if its
   * cart failed (the record is then reported for retry). Calls that arrive together (the records of one batch,
   * processed concurrently) are delivered together: one cart's as one version-ordered run. A cart's later calls
   * wait until its run in flight is written.
   */
  offer(envelope: EventEnvelope): Promise<Offered> {
    return new Promise<Offered>((resolve, reject) => {
      const waiting = this.queued.get(envelope.aggregateId) ?? [];
      waiting.push({ envelope, resolve, reject });
      this.queued.set(envelope.aggregateId, waiting);
      this.schedule();
    });
  }

  /** Forgets remembered positions (after the consumer's store was wiped). */
  forget(): void {
    this.positions.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // After the current macrotask: the other records of this batch (started together) join the same delivery.
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = new Map<string, QueuedCall[]>();
    for (const [cartId, waiting] of this.queued) {
      if (this.busy.has(cartId)) continue;
      batch.set(cartId, waiting);
      this.queued.delete(cartId);
      this.busy.add(cartId);
    }
    if (batch.size === 0) return;
    try {
      let outcomes: Map<string, CartOutcome> | undefined;
      let failure: unknown;
      try {
        outcomes = await this.deliver(new Map([...batch].map(([cartId, waiting]) => [cartId, waiting.map((w) => w.envelope)])));
      } catch (error) {
        failure = error;
      }
      for (const [cartId, waiting] of batch) {
        const outcome = outcomes?.get(cartId);
        const error = failure ?? (outcome && 'error' in outcome ? outcome.error : undefined);
        if (error !== undefined || !outcome || 'error' in outcome) {
          for (const { reject } of waiting) reject(error);
          continue;
        }
        const seen = new Set<number>();
        for (const { envelope, resolve } of waiting) {
          const again = seen.has(envelope.version);
          seen.add(envelope.version);
          resolve(again || outcome.duplicates.has(envelope.version) ? 'duplicate' : 'handled');
        }
      }
    } finally {
      for (const cartId of batch.keys()) this.busy.delete(cartId);
      if (this.queued.size > 0) this.schedule();
    }
  }

  /**
   * The cart's next run from its position: duplicates at its head skipped, a gap filled from the event store.
   * Undefined when there is nothing to hand over this round (all done, or the position must be confirmed first).
   */
  private async planRun(w: CartWork<P>): Promise<PlannedRun<P> | undefined> {
    while (w.i < w.events.length) {
      const position = w.position!;
      const head = w.events[w.i]!;
      const next = head.version === position.version + 1;
      if ((!next || this.consumer.handlesOnlyFromReadPositions) && !w.confirmed) {
        w.position = undefined; // a guess never decides a skip or a catch-up (nor, for some consumers, a run)
        return undefined;
      }
      if (head.version <= position.version) {
        w.skipped++;
        w.duplicates.add(head.version);
        w.i++;
        continue;
      }
      const events = next ? [] : await this.missingHistory(w.cartId, position.version + 1, head.version - 1);
      const prefix = events.length;
      let j = w.i;
      while (j < w.events.length && events.length < this.maxRunLength && w.events[j]!.version === position.version + events.length + 1) events.push(w.events[j++]!);
      return { work: w, from: position, events, prefix };
    }
    return undefined;
  }

  private async missingHistory(cartId: string, from: number, to: number): Promise<EventEnvelope[]> {
    const stream = await this.eventStore.readStream(cartId, from - 1);
    const missing = stream.events.filter((e) => e.version >= from && e.version <= to).sort((a, b) => a.version - b.version);
    if (missing.length !== to - from + 1 || missing.some((e, index) => e.version !== from + index)) {
      throw new MissingHistoryError(cartId, from, to);
    }
    return missing;
  }

  private remember(cartId: string, position: P): void {
    this.positions.delete(cartId);
    this.positions.set(cartId, position);
    if (this.positions.size > this.positionCacheSize) this.positions.delete(this.positions.keys().next().value!);
  }
}

/** One event per version (the first envelope seen wins), in version order. */
function inVersionOrder(envelopes: readonly EventEnvelope[]): EventEnvelope[] {
  const byVersion = new Map<number, EventEnvelope>();
  for (const envelope of envelopes) if (!byVersion.has(envelope.version)) byVersion.set(envelope.version, envelope);
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/** `work` over every item, at most `limit` at a time; results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
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
