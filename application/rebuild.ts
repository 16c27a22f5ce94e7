import { abandonBuilding, generationsOf, retirePrevious, startBuilding, switchTo } from '../domain/projections';
import type { EventStore } from './event-store';
import { changePointer, POINTER_CACHE_MS, type GenerationalProjections, type GenerationPointerStore } from './generations';
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
  /** Every cart of a cart-summary generation with its version. */
  cartVersions(generation: number): Promise<Map<string, number>>;
  /** Deletes the rows of one generation of one projection. */
  deleteGeneration(projection: ProjectionName, generation: number): Promise<number>;
  sleep(ms: number): Promise<void>;
}

export interface RebuildRequest {
  readonly projections: readonly ProjectionName[];
  readonly executionName: string;
}

/** Waited after a pointer change before relying on it: every process has re-read the pointer by then. */
export const POINTER_SETTLE_MS = 2 * POINTER_CACHE_MS;

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
  // From here on every consumer writes the new generation too, so nothing the archive misses is left out.
  await deps.sleep(POINTER_SETTLE_MS);
  return { generation };
}

/**
 * Brings the new generation up to the live one: for each cart the live cart-summary generation knows at a
 * higher version than the new one, the events after the new one's version are read from the event store and
 * applied (the sequencer fills any gap before them). The consumers write both generations meanwhile.
 */
export async function catchUpRebuild(deps: RebuildDeps, request: RebuildRequest & { generation: number }): Promise<{ carts: number; caughtUp: number }> {
  const stored = await deps.pointer.read();
  const live = generationsOf(stored, 'cart-summary').live;
  const [liveVersions, newVersions] = await Promise.all([
    deps.cartVersions(live),
    request.projections.includes('cart-summary') ? deps.cartVersions(request.generation) : Promise.resolve(new Map<string, number>()),
  ]);
  const lagging = [...liveVersions].filter(([cartId, version]) => (newVersions.get(cartId) ?? 0) < version);
  const target = deps.projections.of(request.generation);
  let caughtUp = 0;
  await mapLimit(lagging, 16, async ([cartId]) => {
    const { events } = await deps.eventStore.readStream(cartId, Math.max(0, (newVersions.get(cartId) ?? 0)));
    if (events.length === 0) return;
    const report = await target.apply(events, request.projections);
    caughtUp += Object.values(report.projections).reduce((sum, c) => sum + (c?.applied ?? 0) + (c?.caughtUp ?? 0), 0);
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

/** A failed rebuild: the live generation keeps serving; the consumers stop writing the new one, whose rows go. */
export async function abandonRebuild(deps: RebuildDeps, request: RebuildRequest & { generation: number }): Promise<{ abandoned: number; deleted: number }> {
  await changePointer(deps.pointer, (stored) => {
    const building = request.projections.some((name) => generationsOf(stored, name).building === request.generation);
    return { pointer: building ? abandonBuilding(stored, request.projections, request.generation) : stored, result: undefined };
  });
  await deps.sleep(POINTER_SETTLE_MS);
  const stored = await deps.pointer.read();
  let deleted = 0;
  for (const name of request.projections) {
    // Never the generation that serves (a switch that went through before the failure was caught).
    if (generationsOf(stored, name).live !== request.generation) deleted += await deps.deleteGeneration(name, request.generation);
  }
  return { abandoned: request.generation, deleted };
}
