import { generationsOf, INITIAL_POINTER, startBuilding, switchTo, type GenerationPointer } from '../domain/projections';
import type { GenerationPointerStore } from './generations';
import { abandonRebuild, type RebuildDeps } from './rebuild';

function pointerStore(initial: GenerationPointer): GenerationPointerStore & { stored: () => GenerationPointer } {
  let stored = initial;
  return {
    stored: () => stored,
    read: async () => stored,
    write: async (next, expected) => (stored.revision === expected ? ((stored = next), true) : false),
  };
}

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
