/**
 * Generations of a read model (blue/green rebuilds). A projection's rows live under a generation: generation 0 is
 * the unprefixed rows every stack starts with; generation N > 0 keeps its rows in the same table under the key
 * prefix `#gen<N>#`, so no table is created at run time. One pointer says, per projection, which generation is
 * live, which one a rebuild is building, which one was live before the last switch (kept until retired), and which
 * ones a rebuild abandoned or replaced (`retiring`: read until the live one has caught up with them).
 *
 * Readers answer from every generation the pointer names and keep the highest cart version: each generation only
 * ever moves forward, and a higher version is always a later state of the same cart, so the answer never goes
 * backwards across the switch, whichever pointer (older or newer) a reader has cached.
 * Writers (the live consumers) apply each event to the building generation first, then to the live one, so the
 * building generation is never behind the live one for an event a consumer has handled.
 */
export interface ProjectionGenerations {
  readonly live: number;
  readonly building?: number;
  /** Set while the rebuild that builds `building` runs (its execution name), so another rebuild cannot take it over. */
  readonly buildingBy?: string;
  readonly previous?: number;
  /**
   * Generations no longer written (an abandoned rebuild's, or one a stopped rebuild left behind and the next one
   * replaced) but still read: one may hold a cart at a newer version than the live generation (the replay got
   * ahead of a lagging live consumer). Each leaves the read set only once the live generation has caught up with
   * it (forgetRetiring), and its rows are deleted only after that.
   */
  readonly retiring?: readonly number[];
}

export interface GenerationPointer {
  /** Bumped by every change: each change is one write conditional on the revision it was computed from. */
  readonly revision: number;
  readonly projections: Readonly<Record<string, ProjectionGenerations>>;
  /**
   * The highest generation number ever handed out (absent: none above those the pointer names). A number is never
   * handed out twice: a write still in flight into an abandoned or replaced generation (a stalled consumer, a
   * replay worker outliving its aborted Map) must never land in a later rebuild's rows.
   */
  readonly highestGeneration?: number;
}

export const INITIAL_POINTER: GenerationPointer = { revision: 0, projections: {} };

const LIVE_ONLY: ProjectionGenerations = { live: 0 };

export function generationsOf(pointer: GenerationPointer, projection: string): ProjectionGenerations {
  return pointer.projections[projection] ?? LIVE_ONLY;
}

/** Where a projection's rows of a generation start: generation 0 is unprefixed. */
export function generationKeyPrefix(generation: number): string {
  return generation === 0 ? '' : `#gen${generation}#`;
}

/** The generations a reader consults (live first), keeping the highest version it finds. */
export function readGenerations(g: ProjectionGenerations): number[] {
  return [...new Set([g.live, ...(g.building === undefined ? [] : [g.building]), ...(g.previous === undefined ? [] : [g.previous]), ...(g.retiring ?? [])])];
}

/** The `retiring` field of generations, absent when empty. */
function retiringField(retiring: readonly number[]): Pick<ProjectionGenerations, 'retiring'> {
  return retiring.length === 0 ? {} : { retiring: [...new Set(retiring)] };
}

/** The generations a live consumer writes, in order: the building one before the live one. */
export function writeGenerations(g: ProjectionGenerations): number[] {
  return g.building === undefined ? [g.live] : [g.building, g.live];
}

export class GenerationConflict extends Error {
  override readonly name = 'GenerationConflict';
}

function change(pointer: GenerationPointer, projections: readonly string[], next: (g: ProjectionGenerations, name: string) => ProjectionGenerations): GenerationPointer {
  const updated = { ...pointer.projections };
  for (const name of projections) updated[name] = next(generationsOf(pointer, name), name);
  return { ...pointer, revision: pointer.revision + 1, projections: updated };
}

/**
 * Starts building a new generation of the projections (one number for all of them, above any ever handed out).
 * An execution that runs this again (a retry) gets the same generation back. A generation left behind by a
 * stopped rebuild is replaced (see leftBehind); the previous generation must be retired first (its rows are still read).
 */
export function startBuilding(pointer: GenerationPointer, projections: readonly string[], executionName: string): { pointer: GenerationPointer; generation: number } {
  const mine = projections.map((name) => generationsOf(pointer, name)).filter((g) => g.buildingBy === executionName && g.building !== undefined);
  if (mine.length === projections.length) return { pointer, generation: mine[0]!.building! };
  for (const name of projections) {
    const g = generationsOf(pointer, name);
    if (g.previous !== undefined) throw new GenerationConflict(`${name}: generation ${g.previous} is not retired yet; a new rebuild can start once it is`);
  }
  const used = Object.values(pointer.projections).flatMap((g) => [g.live, g.building ?? 0, g.previous ?? 0, ...(g.retiring ?? [])]);
  const generation = Math.max(0, pointer.highestGeneration ?? 0, ...used) + 1;
  // A replaced generation is still read (it may be ahead of the live one) until it is retired.
  const next = change(pointer, projections, (g) => ({
    live: g.live,
    building: generation,
    buildingBy: executionName,
    ...retiringField([...(g.retiring ?? []), ...(g.building === undefined ? [] : [g.building])]),
  }));
  return { pointer: { ...next, highestGeneration: generation }, generation };
}

/** The generations another (stopped) rebuild was building for these projections: startBuilding moves them to `retiring`. */
export function leftBehind(pointer: GenerationPointer, projections: readonly string[], executionName: string): { projection: string; generation: number }[] {
  return projections.flatMap((projection) => {
    const g = generationsOf(pointer, projection);
    return g.building !== undefined && g.buildingBy !== executionName ? [{ projection, generation: g.building }] : [];
  });
}

/** Makes the built generation live in one write; the old live one becomes `previous` (still read until retired). */
export function switchTo(pointer: GenerationPointer, projections: readonly string[], generation: number): GenerationPointer {
  for (const name of projections) {
    const g = generationsOf(pointer, name);
    if (g.live === generation) continue; // a retried switch
    if (g.building !== generation) throw new GenerationConflict(`${name}: generation ${generation} is not being built (pointer: ${JSON.stringify(g)})`);
  }
  return change(pointer, projections, (g) => (g.live === generation ? g : { live: generation, previous: g.live, ...retiringField(g.retiring ?? []) }));
}

/** A failed rebuild: the live generation keeps serving, the consumers stop writing the abandoned one (still read: `retiring`). */
export function abandonBuilding(pointer: GenerationPointer, projections: readonly string[], generation: number): GenerationPointer {
  return change(pointer, projections, (g) =>
    g.building === generation ? { live: g.live, ...(g.previous === undefined ? {} : { previous: g.previous }), ...retiringField([...(g.retiring ?? []), generation]) } : g,
  );
}

/** The live generation has caught up with these retiring generations: readers stop consulting them (their rows go next). */
export function forgetRetiring(pointer: GenerationPointer, projections: readonly string[], generations: readonly number[]): GenerationPointer {
  if (!projections.some((name) => generationsOf(pointer, name).retiring?.some((r) => generations.includes(r)))) return pointer;
  return change(pointer, projections, (g) => {
    if (g.retiring === undefined) return g;
    const { retiring, ...rest } = g;
    return { ...rest, ...retiringField(retiring.filter((r) => !generations.includes(r))) };
  });
}

/** After the retirement delay: readers stop consulting the previous generation (its rows are deleted next). */
export function retirePrevious(pointer: GenerationPointer, projections: readonly string[]): GenerationPointer {
  return change(pointer, projections, (g) => ({
    live: g.live,
    ...(g.building === undefined ? {} : { building: g.building, ...(g.buildingBy ? { buildingBy: g.buildingBy } : {}) }),
    ...retiringField(g.retiring ?? []),
  }));
}

/** The order a live consumer writes in: every building generation first, then the live ones. */
export function writeOrder(pointer: GenerationPointer, projections: readonly string[]): { generation: number; projections: string[] }[] {
  const steps = new Map<string, { generation: number; projections: string[] }>();
  const add = (phase: string, generation: number, name: string) => {
    const key = `${phase}:${generation}`;
    const step = steps.get(key) ?? { generation, projections: [] };
    step.projections.push(name);
    steps.set(key, step);
  };
  for (const name of projections) {
    const g = generationsOf(pointer, name);
    if (g.building !== undefined) add('building', g.building, name);
  }
  for (const name of projections) add('live', generationsOf(pointer, name).live, name);
  return [...steps.values()];
}
