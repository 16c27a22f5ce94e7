import { decide, evolve, initialCartState, type CartCommand, type CartState } from '../domain/cart';
import type { EventEnvelope } from '../domain/events';
import { abandonBuilding, generationsOf, INITIAL_POINTER, readGenerations, startBuilding, switchTo, type GenerationPointer } from '../domain/projections';
import { stampEvents } from './cart-commands';
import { CachedGenerationPointer, GenerationalProjections, POINTER_CACHE_MS, POINTER_USER_TIMEOUT_MS, type GenerationPointerStore } from './generations';
import { InMemoryEventStore } from './in-memory-event-store';
import { InMemoryCartSummaryTable, InMemoryItemPopularityTable } from './in-memory-projection-tables';
import { CartProjections, type ProjectionName } from './projections';
import { abandonRebuild, CATCH_UP_BATCH, catchUpRebuild, POINTER_SETTLE_MS, prepareRebuild, type RebuildDeps } from './rebuild';

function pointerStore(initial: GenerationPointer): GenerationPointerStore & { stored: () => GenerationPointer } {
  let stored = initial;
  return {
    stored: () => stored,
    read: async () => stored,
    write: async (next, expected) => (stored.revision === expected ? ((stored = next), true) : false),
  };
}

describe('prepareRebuild', () => {
  it('waits out the longest invocation of a pointer user before the new generation is relied on', async () => {
    const slept: number[] = [];
    const deps = { pointer: pointerStore(INITIAL_POINTER), sleep: async (ms: number) => void slept.push(ms), deleteGeneration: async () => 0, cartVersions: async () => new Map() } as unknown as RebuildDeps;
    await prepareRebuild(deps, { projections: ['cart-summary'], executionName: 'run' });
    expect(slept).toEqual([POINTER_SETTLE_MS]);
    expect(POINTER_SETTLE_MS).toBeGreaterThan(POINTER_USER_TIMEOUT_MS + POINTER_CACHE_MS);
  });

  it('deletes the rows of a generation a stopped rebuild left behind, once no consumer writes it and no reader consults it any more', async () => {
    const pointer = pointerStore(startBuilding(INITIAL_POINTER, ['cart-summary'], 'stopped').pointer);
    const events: string[] = [];
    const deps = {
      pointer,
      sleep: async () => void events.push(`settle (reads ${readGenerations(generationsOf(pointer.stored(), 'cart-summary')).join(',')})`),
      cartVersions: async (generations: number[]) => (events.push(`compare g${generations.join(',g')}`), new Map()),
      deleteGeneration: async (projection: string, generation: number) => (events.push(`delete ${projection}#${generation}`), 1),
    } as unknown as RebuildDeps;
    expect(await prepareRebuild(deps, { projections: ['cart-summary'], executionName: 'next' })).toEqual({ generation: 2 });
    // The replaced generation 1 is read until the written ones (2, being built, and 0, live) have every cart it has.
    expect(events).toEqual(['settle (reads 0,2,1)', 'compare g1,g2', 'compare g1,g0', 'settle (reads 0,2)', 'delete cart-summary#1']);
    expect(generationsOf(pointer.stored(), 'cart-summary')).toEqual({ live: 0, building: 2, buildingBy: 'next' });
  });
});

describe('abandonRebuild', () => {
  it('without a generation (PrepareGeneration answered nothing) abandons the one its execution builds', async () => {
    const pointer = pointerStore(startBuilding(INITIAL_POINTER, ['cart-summary'], 'lost-answer').pointer);
    const deleted: string[] = [];
    const deps = { pointer, sleep: async () => undefined, cartVersions: async () => new Map(), deleteGeneration: async (p: string, g: number) => (deleted.push(`${p}#${g}`), 1) } as unknown as RebuildDeps;
    expect(await abandonRebuild(deps, { projections: ['cart-summary'], executionName: 'lost-answer' })).toEqual({ abandoned: 1, deleted: 1 });
    expect(generationsOf(pointer.stored(), 'cart-summary')).toEqual({ live: 0 });
    expect(deleted).toEqual(['cart-summary#1']);
  });
});

describe('prepareRebuild after a stopped switch', () => {
  it('first retires an old generation that a rebuild stopped before its retirement left behind', async () => {
    const pointer = pointerStore(switchTo(startBuilding(INITIAL_POINTER, ['cart-summary'], 'stopped').pointer, ['cart-summary'], 1));
    const deleted: string[] = [];
    const deps = {
      pointer,
      sleep: async () => undefined,
      deleteGeneration: async (projection: string, generation: number) => (deleted.push(`${projection}#${generation}`), 1),
    } as unknown as RebuildDeps;
    expect(await prepareRebuild(deps, { projections: ['cart-summary'], executionName: 'next' })).toEqual({ generation: 2 });
    expect(deleted).toEqual(['cart-summary#0']);
    expect(generationsOf(pointer.stored(), 'cart-summary')).toEqual({ live: 1, building: 2, buildingBy: 'next' });
  });
});

const SKUS = ['A', 'B', 'C'];
const NAMES: ProjectionName[] = ['cart-summary', 'item-popularity'];

/** A cart's stored history: opened, then one item added per sku given (valid commands only). */
function cartHistory(cartId: string, skus: readonly string[]): EventEnvelope[] {
  let state: CartState = initialCartState;
  const events: EventEnvelope[] = [];
  for (const command of [{ type: 'OpenCart' } as CartCommand, ...skus.map((sku, i): CartCommand => ({ type: 'AddItem', sku, quantity: 1 + i }))]) {
    const decided = decide(command, state);
    events.push(...stampEvents(cartId, events.length, decided, new Date(0), () => `${cartId}-e${events.length}`));
    for (const event of decided) state = evolve(state, event);
  }
  return events;
}

/**
 * A rebuild of both projections into generation 1 while generation 0 is live and complete: the archive gave the
 * new generation the whole history of some carts, the first event only of others, and nothing of the rest.
 */
function rebuildWorld(carts: number, options: { failWritesAt?: number } = {}) {
  const histories = Array.from({ length: carts }, (_, i) => cartHistory(`cart-${i}`, SKUS.slice(0, 1 + (i % SKUS.length))));
  const store = new InMemoryEventStore();
  store.seed(histories.flat());
  let armed = false;
  let writes = 0;
  const failing = async () => {
    if (armed && ++writes === options.failWritesAt) throw new Error('DynamoDB went away mid-batch');
  };
  const tables = new Map([
    [0, { summary: new InMemoryCartSummaryTable(), popularity: new InMemoryItemPopularityTable() }],
    [1, { summary: new InMemoryCartSummaryTable(failing), popularity: new InMemoryItemPopularityTable(failing) }],
  ]);
  const projectionsOf = new Map([...tables].map(([generation, t]) => [generation, new CartProjections([t.summary, t.popularity], store)]));
  const pointer = pointerStore(startBuilding(INITIAL_POINTER, NAMES, 'rebuild').pointer);
  const applyCalls: EventEnvelope[][] = [];
  const target = projectionsOf.get(1)!;
  const apply = target.apply.bind(target);
  target.apply = async (envelopes, names) => (applyCalls.push([...envelopes]), apply(envelopes, names));
  const deps: RebuildDeps = {
    pointer,
    projections: new GenerationalProjections(new CachedGenerationPointer(pointer), (generation) => projectionsOf.get(generation)!, NAMES),
    eventStore: store,
    cartVersions: async (generations) =>
      new Map(generations.map((generation) => [generation, new Map([...tables.get(generation)!.summary.cursors].map(([cartId, cursor]) => [cartId, cursor.version]))])),
    deleteGeneration: async () => 0,
    sleep: async () => undefined,
  };
  return {
    deps,
    tables,
    applyCalls,
    async seed() {
      await projectionsOf.get(0)!.apply(histories.flat());
      // Generation 1 as the archive left it: every third cart whole, every third its first event, the rest missing.
      const fromArchive = histories.flatMap((events, i) => (i % 3 === 0 ? events : i % 3 === 1 ? events.slice(0, 1) : []));
      await apply(fromArchive, NAMES);
      armed = true;
    },
    lagging: histories.filter((_, i) => i % 3 !== 0).length,
    expectCaughtUp() {
      const [live, built] = [tables.get(0)!, tables.get(1)!];
      expect(built.summary.summaries()).toEqual(live.summary.summaries());
      // Counters shared by every cart: an event applied twice would show here.
      expect(built.popularity.rows).toEqual(live.popularity.rows);
      expect(built.popularity.cursors).toEqual(live.popularity.cursors);
    },
  };
}

const request = { projections: NAMES, executionName: 'rebuild', generation: 1 };

describe('catchUpRebuild', () => {
  it('catches up every cart the new generation lacks or has at a lower version, in batches of many carts', async () => {
    const world = rebuildWorld(250);
    await world.seed();
    const result = await catchUpRebuild(world.deps, request);
    expect(result.carts).toBe(world.lagging);
    world.expectCaughtUp();
    // Per batch of carts (not per cart) one call for item-popularity, then one for cart-summary.
    expect(world.applyCalls).toHaveLength(2 * Math.ceil(world.lagging / CATCH_UP_BATCH));
    for (const call of world.applyCalls) expect(new Set(call.map((e) => e.aggregateId)).size).toBeGreaterThan(1);
    // Only the events after the new generation's version are read: carts with their first event get the rest.
    expect(world.applyCalls.flat().some((e) => e.aggregateId === 'cart-1' && e.version === 1)).toBe(false);
  });

  it('a retried catch-up, even one racing the first attempt, applies nothing twice', async () => {
    const world = rebuildWorld(120);
    await world.seed();
    await Promise.all([catchUpRebuild(world.deps, request), catchUpRebuild(world.deps, request)]);
    world.expectCaughtUp();
    expect(await catchUpRebuild(world.deps, request)).toEqual({ carts: 0, caughtUp: 0 });
    world.expectCaughtUp();
  });

  it('a failure mid-batch leaves a state that the retried step finishes', async () => {
    // The 700th write (a cursor read or one event's write in the in-memory tables) fails: after the first batches
    // are in, while the next ones are part-way (some carts with item-popularity but not cart-summary yet).
    const world = rebuildWorld(400, { failWritesAt: 700 });
    await world.seed();
    await expect(catchUpRebuild(world.deps, request)).rejects.toThrow('DynamoDB went away mid-batch');
    const retried = await catchUpRebuild(world.deps, request);
    expect(retried.carts).toBeGreaterThan(0);
    expect(retried.carts).toBeLessThan(world.lagging);
    world.expectCaughtUp();
  });
});

describe('abandonRebuild of a generation ahead of the live one', () => {
  /** Generation 1 has every cart whole (the replay); the live generation 0 only their first event (a lagging consumer). */
  async function aheadWorld(options: { eventStoreDown?: boolean } = {}) {
    const histories = Array.from({ length: 5 }, (_, i) => cartHistory(`cart-${i}`, SKUS));
    const store = new InMemoryEventStore();
    store.seed(histories.flat());
    const tables = new Map([0, 1].map((g) => [g, { summary: new InMemoryCartSummaryTable(), popularity: new InMemoryItemPopularityTable() }]));
    const projectionsOf = new Map([...tables].map(([g, t]) => [g, new CartProjections([t.summary, t.popularity], store)]));
    await projectionsOf.get(0)!.apply(histories.map((events) => events[0]!));
    await projectionsOf.get(1)!.apply(histories.flat());
    const pointer = pointerStore(startBuilding(INITIAL_POINTER, NAMES, 'rebuild').pointer);
    const steps: string[] = [];
    const deps: RebuildDeps = {
      pointer,
      projections: new GenerationalProjections(new CachedGenerationPointer(pointer), (g) => projectionsOf.get(g)!, NAMES),
      eventStore: {
        readStream: async (cartId, after) => {
          if (options.eventStoreDown) throw new Error('event store unavailable');
          return store.readStream(cartId, after);
        },
      },
      cartVersions: async (generations) => new Map(generations.map((g) => [g, new Map([...tables.get(g)!.summary.cursors].map(([cartId, cursor]) => [cartId, cursor.version]))])),
      deleteGeneration: async (projection, g) => (steps.push(`delete ${projection}#${g} (reads ${readGenerations(generationsOf(pointer.stored(), projection)).join(',')})`), 1),
      sleep: async () => undefined,
    };
    return { deps, tables, pointer, steps };
  }

  it('keeps reading it until the live generation has every cart at its version, then deletes it', async () => {
    const { deps, tables, pointer, steps } = await aheadWorld();
    expect(await abandonRebuild(deps, { ...request })).toEqual({ abandoned: 1, deleted: 2 });
    expect(tables.get(0)!.summary.summaries()).toEqual(tables.get(1)!.summary.summaries());
    expect(steps).toEqual(['delete cart-summary#1 (reads 0)', 'delete item-popularity#1 (reads 0)']);
    expect(generationsOf(pointer.stored(), 'cart-summary')).toEqual({ live: 0 });
  });

  it('when the live generation cannot be caught up, the generation stays in the read set and its rows stay', async () => {
    const { deps, pointer, steps } = await aheadWorld({ eventStoreDown: true });
    await expect(abandonRebuild(deps, { ...request })).rejects.toThrow('event store unavailable');
    expect(generationsOf(pointer.stored(), 'cart-summary')).toEqual({ live: 0, retiring: [1] });
    expect(steps).toEqual([]);
  });

  it('a retry after the pointer change was applied and its answer lost retires it all the same', async () => {
    const { deps, pointer, steps } = await aheadWorld();
    await pointer.write(abandonBuilding(pointer.stored(), NAMES, 1), pointer.stored().revision);
    expect(await abandonRebuild(deps, { ...request })).toEqual({ abandoned: 1, deleted: 2 });
    expect(steps).toHaveLength(2);
    expect(generationsOf(pointer.stored(), 'item-popularity')).toEqual({ live: 0 });
  });
});

function depsOver(pointer: GenerationPointerStore, deleted: string[]): RebuildDeps {
  return {
    pointer,
    sleep: async () => undefined,
    cartVersions: async () => new Map(),
    deleteGeneration: async (projection: string, generation: number) => (deleted.push(`${projection}#${generation}`), 1),
  } as unknown as RebuildDeps;
}

describe('abandonRebuild', () => {
  it('deletes the generation it was building, and the live one keeps serving', async () => {
    const pointer = pointerStore(startBuilding(INITIAL_POINTER, ['cart-summary', 'item-popularity'], 'run-1').pointer);
    const deleted: string[] = [];
    expect(await abandonRebuild(depsOver(pointer, deleted), { projections: ['cart-summary', 'item-popularity'], executionName: 'run-1', generation: 1 })).toEqual({ abandoned: 1, deleted: 2 });
    expect(deleted).toEqual(['cart-summary#1', 'item-popularity#1']);
    expect(generationsOf(pointer.stored(), 'cart-summary').live).toBe(0);
  });

  it('never deletes the generation that serves: a switch that went through before the failure was caught', async () => {
    // The switch to generation 1 landed for cart-summary (it serves now); item-popularity was still building.
    const building = startBuilding(INITIAL_POINTER, ['cart-summary', 'item-popularity'], 'run-1').pointer;
    const pointer = pointerStore(switchTo(building, ['cart-summary'], 1));
    const deleted: string[] = [];
    await abandonRebuild(depsOver(pointer, deleted), { projections: ['cart-summary', 'item-popularity'], executionName: 'run-1', generation: 1 });
    expect(generationsOf(pointer.stored(), 'cart-summary').live).toBe(1);
    expect(deleted).toEqual(['item-popularity#1']);
  });
});
