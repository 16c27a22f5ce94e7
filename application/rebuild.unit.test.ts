import { generationsOf, INITIAL_POINTER, startBuilding, switchTo, type GenerationPointer } from '../domain/projections';
import type { GenerationPointerStore } from './generations';
import { prepareRebuild, type RebuildDeps } from './rebuild';

describe('prepareRebuild', () => {
  it('first retires an old generation that a rebuild stopped before its retirement left behind', async () => {
    let stored: GenerationPointer = switchTo(startBuilding(INITIAL_POINTER, ['cart-summary'], 'stopped').pointer, ['cart-summary'], 1);
    const pointer: GenerationPointerStore = {
      read: async () => stored,
      write: async (next, expected) => (stored.revision === expected ? ((stored = next), true) : false),
    };
    const deleted: string[] = [];
    const deps = {
      pointer,
      sleep: async () => undefined,
      deleteGeneration: async (projection: string, generation: number) => (deleted.push(`${projection}#${generation}`), 1),
    } as unknown as RebuildDeps;
    expect(await prepareRebuild(deps, { projections: ['cart-summary'], executionName: 'next' })).toEqual({ generation: 2 });
    expect(deleted).toEqual(['cart-summary#0']);
    expect(generationsOf(stored, 'cart-summary')).toEqual({ live: 1, building: 2, buildingBy: 'next' });
  });
});
