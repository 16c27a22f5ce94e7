import fc from 'fast-check';
import {
  abandonBuilding,
  forgetRetiring,
  GenerationConflict,
  generationsOf,
  INITIAL_POINTER,
  readGenerations,
  retirePrevious,
  startBuilding,
  leftBehind,
  switchTo,
  writeGenerations,
  writeOrder,
} from './generations';

const BOTH = ['cart-summary', 'item-popularity'];

describe('generation pointer', () => {
  it('goes prepare -> switch -> retire, and readers consult every generation named while writers write building first', () => {
    const { pointer: building, generation } = startBuilding(INITIAL_POINTER, BOTH, 'run-1');
    expect(generation).toBe(1);
    expect(generationsOf(building, 'cart-summary')).toEqual({ live: 0, building: 1, buildingBy: 'run-1' });
    expect(writeGenerations(generationsOf(building, 'cart-summary'))).toEqual([1, 0]);
    expect(writeOrder(building, BOTH)).toEqual([{ generation: 1, projections: BOTH }, { generation: 0, projections: BOTH }]);
    // A retried prepare of the same execution gets the same generation and changes nothing.
    expect(startBuilding(building, BOTH, 'run-1')).toEqual({ pointer: building, generation: 1 });

    const switched = switchTo(building, BOTH, 1);
    expect(generationsOf(switched, 'cart-summary')).toEqual({ live: 1, previous: 0 });
    expect(readGenerations(generationsOf(switched, 'cart-summary'))).toEqual([1, 0]);
    expect(switchTo(switched, BOTH, 1).projections).toEqual(switched.projections); // a retried switch
    expect(() => startBuilding(switched, BOTH, 'run-2')).toThrow(GenerationConflict); // previous not retired yet

    const retired = retirePrevious(switched, BOTH);
    expect(generationsOf(retired, 'item-popularity')).toEqual({ live: 1 });
    expect(startBuilding(retired, BOTH, 'run-2').generation).toBe(2);
    expect(retired.revision).toBe(3);
  });

  it('an abandoned rebuild leaves the live generation as it was; a stopped one is taken over by the next', () => {
    const { pointer: building } = startBuilding(INITIAL_POINTER, ['cart-summary'], 'stopped');
    // Still read (it may be ahead of the live one) until forgetRetiring, which the rebuild calls once the live one caught up.
    const abandonedOne = abandonBuilding(building, ['cart-summary'], 1);
    expect(generationsOf(abandonedOne, 'cart-summary')).toEqual({ live: 0, retiring: [1] });
    expect(readGenerations(generationsOf(abandonedOne, 'cart-summary'))).toEqual([0, 1]);
    expect(generationsOf(forgetRetiring(abandonedOne, ['cart-summary'], [1]), 'cart-summary')).toEqual({ live: 0 });
    expect(forgetRetiring(forgetRetiring(abandonedOne, ['cart-summary'], [1]), ['cart-summary'], [1]).revision).toBe(abandonedOne.revision + 1);
    expect(generationsOf(building, 'item-popularity')).toEqual({ live: 0 });
    const next = startBuilding(building, ['cart-summary'], 'next');
    expect(next.generation).toBe(2);
    expect(generationsOf(next.pointer, 'cart-summary')).toEqual({ live: 0, building: 2, buildingBy: 'next', retiring: [1] });
    expect(generationsOf(switchTo(next.pointer, ['cart-summary'], 2), 'cart-summary')).toEqual({ live: 2, previous: 0, retiring: [1] });
    expect(() => switchTo(next.pointer, ['cart-summary'], 1)).toThrow(GenerationConflict);
  });

  it('never hands a generation number out twice, even after the generation that had it was abandoned', () => {
    const { pointer: building, generation } = startBuilding(INITIAL_POINTER, ['cart-summary'], 'failed');
    const abandoned = abandonBuilding(building, ['cart-summary'], generation);
    expect(generationsOf(abandoned, 'cart-summary')).toEqual({ live: 0, retiring: [generation] });
    expect(startBuilding(forgetRetiring(abandoned, ['cart-summary'], [generation]), ['cart-summary'], 'other').generation).toBe(generation + 1);
    expect(startBuilding(abandoned, ['cart-summary'], 'next').generation).toBe(generation + 1);
  });

  it('names the generations a stopped rebuild left behind, not the ones of the execution asking', () => {
    const { pointer } = startBuilding(INITIAL_POINTER, ['cart-summary', 'item-popularity'], 'stopped');
    expect(leftBehind(pointer, ['cart-summary'], 'next')).toEqual([{ projection: 'cart-summary', generation: 1 }]);
    expect(leftBehind(pointer, ['cart-summary'], 'stopped')).toEqual([]);
  });

  it('whatever the steps, a reader with an older or newer pointer consults the generation that was live and the one after it', () => {
    const step = fc.constantFrom('start', 'switch', 'retire', 'abandon', 'forget');
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        let pointer = INITIAL_POINTER;
        for (const [index, kind] of steps.entries()) {
          const before = pointer;
          const g = generationsOf(before, 'cart-summary');
          try {
            if (kind === 'start') pointer = startBuilding(before, ['cart-summary'], `run-${index}`).pointer;
            if (kind === 'switch' && g.building !== undefined) pointer = switchTo(before, ['cart-summary'], g.building);
            if (kind === 'retire') pointer = retirePrevious(before, ['cart-summary']);
            if (kind === 'abandon' && g.building !== undefined) pointer = abandonBuilding(before, ['cart-summary'], g.building);
            if (kind === 'forget') pointer = forgetRetiring(before, ['cart-summary'], g.retiring ?? []);
          } catch (error) {
            if (!(error instanceof GenerationConflict)) throw error;
          }
          // Across one change, the old pointer's readers and the new pointer's readers share the live generation
          // of one of them: a cart served from it by one is never missed by the other.
          const oldReads = readGenerations(generationsOf(before, 'cart-summary'));
          const newReads = readGenerations(generationsOf(pointer, 'cart-summary'));
          const after = generationsOf(pointer, 'cart-summary');
          if (after.live !== g.live) expect(oldReads).toContain(after.live);
          expect(newReads).toContain(after.live);
          // A generation leaves the read set only by retirement (previous) or forgetRetiring, never by an abandon or a new start.
          if (kind === 'abandon' || kind === 'start') expect(newReads).toEqual(expect.arrayContaining(oldReads));
          // Writers always write the live generation, and the building one before it.
          expect(writeGenerations(after).at(-1)).toBe(after.live);
        }
      }),
      { numRuns: 100 },
    );
  }, 30_000);
});
