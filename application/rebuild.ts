import { abandonBuilding, forgetRetiring, GenerationConflict, generationsOf, readGenerations, retirePrevious, startBuilding, switchTo, writeGenerations, type GenerationPointer } from '../domain/projections';
import type { EventStore } from './event-store';
import { changePointer, POINTER_CACHE_MS, POINTER_USER_TIMEOUT_MS, type GenerationalProjections, type GenerationPointerStore } from './generations';
import type { ProjectionName } from './projections';
import { mapLimit } from './sequencer';

/**
 * The steps of a blue/green rebuild (statemachines/replay.asl.json): prepare a new generation that the live
 * consumers write beside the live one, fill it from the archive (the replay's objects), catch it up with the event
 * store for carts whose archive lags, switch the pointer in one conditional write, retire the old generation later.
 * Each step is idempotent: a retried step ends in the same state.
 */
export interface RebuildDeps {
  readonly pointer: GenerationPointerStore;
  readonly projections: GenerationalProjections;
  readonly eventStore: Pick<EventStore, 'readStream'>;
  /** Every cart of each of these cart-summary generations with its version (one pass over the table). */
  cartVersions(generations: readonly number[]): Promise<Map<number, Map<string, number>>>;
  /** Deletes the rows of one generation of one projection. */
  deleteGeneration(projection: ProjectionName, generation: number): Promise<number>;
  sleep(ms: number): Promise<void>;
}

export interface RebuildRequest {
  readonly projections: readonly ProjectionName[];
  readonly executionName: string;
}

/**
 * Waited after a pointer change before relying on it. Re-reading the pointer is not enough: a consumer may have
 * read it just before the change and its write may stall (SDK retries, a slow or throttled request, a frozen
 * sandbox) until its invocation's timeout, landing in the generations of the OLD pointer long after every process
 * has re-read it (the simulation found a closed cart that a rebuild's new generation kept at an earlier version
 * for good that way: docs/simulation.md). So the wait covers the cache's age plus the longest invocation of any
 * pointer user, plus a second for a request the server applies just after its client died.
 */
export const POINTER_SETTLE_MS = POINTER_CACHE_MS + POINTER_USER_TIMEOUT_MS + 1_000;

export async function prepareRebuild(deps: RebuildDeps, request: RebuildRequest): Promise<{ generation: number }> {
  // An earlier rebuild stopped between its switch and its retirement left its old generation behind: retire it now.
  const stored = await deps.pointer.read();
  const leftOver = Object.fromEntries(
    request.projections.flatMap((name) => {
      const previous = generationsOf(stored, name).previous;
      return previous === undefined ? [] : [[name, previous]];
    }),
  );
  if (Object.keys(leftOver).length > 0) await retireGenerations(deps, { previous: leftOver });
  const generation = await changePointer(deps.pointer, (stored) => {
    const { pointer, generation } = startBuilding(stored, request.projections, request.executionName);
    return { pointer, result: generation };
  });
  // The generations a stopped rebuild left behind (startBuilding moved them to `retiring`, in this attempt or in
  // one whose answer was lost), and any an abandon did not get to retire: read from the pointer, so a retry finds them.
  const retiring = retiringOf(await deps.pointer.read(), request.projections);
  // From here on every consumer writes the new generation too, so nothing the archive misses is left out; and no
  // write begun with the pointer from before (which knew nothing of the new generation) is still in flight.
  await deps.sleep(POINTER_SETTLE_MS);
  // No write into the retiring generations is in flight any more either (their numbers are never handed out again).
  await retireAbandoned(deps, request.projections, retiring);
  return { generation };
}

/** The generations the pointer keeps in `retiring` for these projections. */
function retiringOf(pointer: GenerationPointer, projections: readonly ProjectionName[]): number[] {
  return [...new Set(projections.flatMap((name) => generationsOf(pointer, name).retiring ?? []))];
}

/**
 * Retires generations no longer written (abandoned, or replaced by the next rebuild); the caller has waited
 * POINTER_SETTLE_MS since they stopped being written, so their rows are final. One of them may hold a cart at a
 * newer version than the live generation (the replay got ahead of a lagging or stalled live consumer): dropping
 * it from the read set then would make a read go backwards. So first the generations the consumers write (the
 * building one, then the live one, as they do) are caught up from the event store with every cart the retiring
 * generation holds, then readers stop consulting it, and only after they all have are its rows deleted. Each part
 * is idempotent: a retry catches up what is still behind, forgets what is still named, deletes what is left.
 */
async function retireAbandoned(deps: RebuildDeps, projections: readonly ProjectionName[], generations: readonly number[]): Promise<number> {
  if (generations.length === 0) return 0;
  if (projections.includes('cart-summary')) {
    for (const generation of generations) await catchUpWrittenGenerations(deps, projections, generation);
  }
  await changePointer(deps.pointer, (stored) => ({ pointer: forgetRetiring(stored, projections, generations), result: undefined }));
  await deps.sleep(POINTER_SETTLE_MS);
  return deleteUnread(deps, projections, generations);
}

/** Deletes the rows of these generations, never of one the pointer names (a switch to it went through before its rebuild failed). */
async function deleteUnread(deps: RebuildDeps, projections: readonly ProjectionName[], generations: readonly number[]): Promise<number> {
  const stored = await deps.pointer.read();
  let deleted = 0;
  for (const name of projections) {
    for (const generation of generations) {
      if (!readGenerations(generationsOf(stored, name)).includes(generation)) deleted += await deps.deleteGeneration(name, generation);
    }
  }
  return deleted;
}

/** Brings the generations the consumers write up to every cart `reference` holds, or throws (the step is retried). */
async function catchUpWrittenGenerations(deps: RebuildDeps, projections: readonly ProjectionName[], reference: number): Promise<void> {
  for (let pass = 1; pass <= MAX_CATCH_UP_PASSES; pass++) {
    let lagging = 0;
    for (const target of writeGenerations(generationsOf(await deps.pointer.read(), 'cart-summary'))) {
      if (target !== reference) lagging += (await catchUpPass(deps, projections, { reference, target })).carts;
    }
    if (lagging === 0) return;
  }
  throw new GenerationConflict(`the written generations still lag generation ${reference} after ${MAX_CATCH_UP_PASSES} passes`);
}

/** Lagging carts caught up together: their events go to the projections in one call (packed transactions). */
export const CATCH_UP_BATCH = 100;
/** Carts' event streams read at once within a batch (one short Query each). */
const STREAM_READS = 8;
/** Batches in flight: the next one's streams are read while the last one's writes go out. */
const BATCHES_IN_FLIGHT = 2;

/**
 * Brings the new generation up to the live one: for each cart the live cart-summary generation knows at a
 * higher version than the new one (both read in one pass), the events after the new one's version are read from
 * the event store and applied, CATCH_UP_BATCH carts per call of the projections' multi-cart path (the sequencer
 * skips what is in, fills any gap before them, and writes conditionally). The consumers write both generations
 * meanwhile. A batch that fails part-way leaves each cart's projections applied or not, each whole per write, and
 * cart-summary (the measure of lagging) only after the others: a retried step finds just the carts that are done
 * no longer lagging, and the conditional writes never apply an event twice.
 */
export async function catchUpRebuild(deps: RebuildDeps, request: RebuildRequest & { generation: number }): Promise<{ carts: number; caughtUp: number }> {
  let carts = 0;
  let caughtUp = 0;
  for (let pass = 1; ; pass++) {
    const live = generationsOf(await deps.pointer.read(), 'cart-summary').live;
    const done = await catchUpPass(deps, request.projections, { reference: live, target: request.generation });
    carts += done.carts;
    caughtUp += done.caughtUp;
    // Judged once, a cart could be level only because its live write was still in flight: the pass is repeated
    // until one finds no cart lagging (cart-summary is the measure; without it every cart counts as lagging).
    if (done.carts === 0 || !request.projections.includes('cart-summary') || pass >= MAX_CATCH_UP_PASSES) return { carts, caughtUp };
  }
}

/** Passes of a catch-up at most: the consumers keep writing both generations, so the last pass finds few carts. */
const MAX_CATCH_UP_PASSES = 5;

/** One pass bringing `target` up to every cart `reference` holds at a higher version (by cart-summary). */
async function catchUpPass(deps: RebuildDeps, projections: readonly ProjectionName[], { reference, target: generation }: { reference: number; target: number }): Promise<{ carts: number; caughtUp: number }> {
  const rebuildsSummaries = projections.includes('cart-summary');
  const versions = await deps.cartVersions(rebuildsSummaries ? [reference, generation] : [reference]);
  const referenceVersions = versions.get(reference) ?? new Map<string, number>();
  const newVersions = (rebuildsSummaries ? versions.get(generation) : undefined) ?? new Map<string, number>();
  const lagging = [...referenceVersions].filter(([cartId, version]) => (newVersions.get(cartId) ?? 0) < version).map(([cartId]) => cartId);
  if (lagging.length === 0) return { carts: 0, caughtUp: 0 };
  const batches: string[][] = [];
  for (let i = 0; i < lagging.length; i += CATCH_UP_BATCH) batches.push(lagging.slice(i, i + CATCH_UP_BATCH));
  const target = deps.projections.of(generation);
  // Lagging is judged by cart-summary alone, so it is written last, once the batch is in every other projection:
  // a cart whose other projections failed stays lagging for the retry (which skips what they already have).
  const others = projections.filter((name) => name !== 'cart-summary');
  const writeOrder = [...(others.length > 0 ? [others] : []), ...(rebuildsSummaries ? [['cart-summary' as const]] : [])];
  let caughtUp = 0;
  await mapLimit(batches, BATCHES_IN_FLIGHT, async (batch) => {
    const streams = await mapLimit(batch, STREAM_READS, (cartId) => deps.eventStore.readStream(cartId, newVersions.get(cartId) ?? 0));
    const events = streams.flatMap((stream) => stream.events);
    if (events.length === 0) return;
    for (const names of writeOrder) {
      const report = await target.apply(events, names);
      caughtUp += Object.values(report.projections).reduce((sum, c) => sum + (c?.applied ?? 0) + (c?.caughtUp ?? 0), 0);
    }
  });
  return { carts: lagging.length, caughtUp };
}

/** The switch: one conditional write of the pointer. Returns the generations that were live before (to retire). */
export async function switchGeneration(deps: RebuildDeps, request: RebuildRequest & { generation: number }): Promise<{ generation: number; previous: Partial<Record<ProjectionName, number>> }> {
  return changePointer(deps.pointer, (stored) => {
    const previous = Object.fromEntries(
      request.projections.flatMap((name) => {
        const g = generationsOf(stored, name);
        const before = g.live === request.generation ? g.previous : g.live;
        return before === undefined ? [] : [[name, before]];
      }),
    );
    return { pointer: switchTo(stored, request.projections, request.generation), result: { generation: request.generation, previous } };
  });
}

/** Readers stop consulting the old generations; once they all have, their rows are deleted. */
export async function retireGenerations(deps: RebuildDeps, request: { previous: Partial<Record<ProjectionName, number>> }): Promise<{ deleted: number }> {
  const names = Object.keys(request.previous) as ProjectionName[];
  await changePointer(deps.pointer, (stored) => ({
    pointer: names.some((name) => generationsOf(stored, name).previous !== undefined) ? retirePrevious(stored, names) : stored,
    result: undefined,
  }));
  await deps.sleep(POINTER_SETTLE_MS);
  let deleted = 0;
  for (const name of names) deleted += await deps.deleteGeneration(name, request.previous[name]!);
  return { deleted };
}

/**
 * A failed rebuild: the live generation keeps serving; the consumers stop writing the new one, whose rows go.
 * Without a generation (PrepareGeneration wrote the pointer but its answer never reached the state machine: the
 * function died or timed out after the write), the generation this execution is building is abandoned.
 */
export async function abandonRebuild(deps: RebuildDeps, request: RebuildRequest & { generation?: number }): Promise<{ abandoned: number | null; deleted: number }> {
  let generation = request.generation;
  await changePointer(deps.pointer, (stored) => {
    generation ??= request.projections.map((name) => generationsOf(stored, name)).find((g) => g.buildingBy === request.executionName)?.building;
    const building = generation !== undefined && request.projections.some((name) => generationsOf(stored, name).building === generation);
    return { pointer: building ? abandonBuilding(stored, request.projections, generation!) : stored, result: undefined };
  });
  if (generation === undefined) return { abandoned: null, deleted: 0 };
  // Still named in `retiring` (this attempt's change, a lost answer's, or an earlier attempt that died): retired
  // below. No longer named: an earlier attempt forgot it already (more than a settle ago once this wait is over).
  const stillRetiring = retiringOf(await deps.pointer.read(), request.projections).includes(generation);
  // No write begun with a pointer under which the consumers still wrote it is in flight after this.
  await deps.sleep(POINTER_SETTLE_MS);
  if (stillRetiring) return { abandoned: generation, deleted: await retireAbandoned(deps, request.projections, [generation]) };
  return { abandoned: generation, deleted: await deleteUnread(deps, request.projections, [generation]) };
}
