import { singleGeneration } from './generations';
import fc from 'fast-check';
import { CartRuleViolation, decide, evolve, initialCartState, type CartCommand, type CartState } from '../domain/cart';
import type { EventEnvelope } from '../domain/events';
import { foldProjections } from '../domain/projections';
import { stampEvents } from './cart-commands';
import { InMemoryEventStore } from './in-memory-event-store';
import { InMemoryCartSummaryTable, InMemoryItemPopularityTable } from './in-memory-projection-tables';
import { CartProjections } from './projections';
import { planReplay, replayObject, type ReplayPlan } from './replay';
import type { ArchiveObjects } from './replay-ports';
import { replayProjections } from './replay-projections';

/**
 * Point 4 of the replay issue: a parallel replay leaves the projections exactly equal to a from-scratch fold of
 * the history, whatever way the history is cut into archive objects, in whatever order and interleaving the
 * objects are processed, with events archived more than once (Firehose is at-least-once).
 */

const SKUS = ['A', 'B', 'C'];
const command: fc.Arbitrary<CartCommand> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('AddItem' as const), sku: fc.constantFrom(...SKUS), quantity: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('RemoveItem' as const), sku: fc.constantFrom(...SKUS) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('CloseCart' as const) }) },
);

/** Several carts' valid histories: what the cart accepted, as stored events. */
const history = fc.array(fc.array(command, { maxLength: 10 }), { minLength: 1, maxLength: 5 }).map((carts) => {
  const events: EventEnvelope[] = [];
  let id = 0;
  carts.forEach((commands, cartIndex) => {
    let state: CartState = initialCartState;
    let version = 0;
    for (const next of [{ type: 'OpenCart' } as CartCommand, ...commands]) {
      let decided;
      try {
        decided = decide(next, state);
      } catch (error) {
        if (error instanceof CartRuleViolation) continue;
        throw error;
      }
      events.push(...stampEvents(`cart-${cartIndex}`, version, decided, new Date(0), () => `event-${id++}`));
      for (const event of decided) state = evolve(state, event);
      version += decided.length;
    }
  });
  return events;
});

/** The archive: every event in some object (some in two or three), objects of any size, listed in any order. */
const archived = history.chain((events) =>
  fc.record({
    events: fc.constant(events),
    objectCount: fc.integer({ min: 1, max: 6 }),
    placement: fc.array(fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 3 }), { minLength: events.length, maxLength: events.length }),
    shuffles: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: events.length * 3, maxLength: events.length * 3 }),
    concurrency: fc.integer({ min: 1, max: 6 }),
  }),
);

function archiveObjects(events: readonly EventEnvelope[], objectCount: number, placement: number[][], shuffles: number[]): Map<string, string> {
  const objects: EventEnvelope[][] = Array.from({ length: objectCount }, () => []);
  events.forEach((event, index) => {
    for (const slot of placement[index]!) objects[slot % objectCount]!.push(event);
  });
  let s = 0;
  const shuffled = objects.map((lines) => lines.map((line) => ({ line, key: shuffles[s++ % shuffles.length]! })).sort((a, b) => a.key - b.key).map((x) => x.line));
  return new Map(shuffled.map((lines, index) => [`events/2024/05/01/${String(index % 24).padStart(2, '0')}/part-${index}.jsonl`, lines.map((e) => `${JSON.stringify(e)}\n`).join('')]));
}

function inMemoryArchive(objects: Map<string, string>): ArchiveObjects {
  return {
    async *list(prefix) {
      for (const [key, text] of objects) if (key.startsWith(prefix)) yield { key, etag: key, size: text.length };
    },
    read: async (key) => objects.get(key),
    write: async (key, body) => void objects.set(key, body),
  };
}

function plan(): ReplayPlan {
  const result = planReplay({ input: { target: 'projections' }, executionName: 'test', startedAt: new Date(0).toISOString() }, ['cart-summary', 'item-popularity']);
  if (!result.valid) throw new Error(result.cause);
  return result.replay;
}

describe('parallel replay order', () => {
  it('equals the from-scratch fold for any split into objects, any order and interleaving, and duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(archived, fc.scheduler(), async ({ events, objectCount, placement, shuffles, concurrency }, scheduler) => {
        const store = new InMemoryEventStore();
        store.seed(events);
        // Every table operation yields to the scheduler, so the objects' applies interleave in random ways.
        const yieldPoint = () => scheduler.schedule(Promise.resolve());
        const summaries = new InMemoryCartSummaryTable(yieldPoint);
        const popularity = new InMemoryItemPopularityTable(yieldPoint);
        const projections = replayProjections(singleGeneration(new CartProjections([summaries, popularity], store)));
        const objects = archiveObjects(events, objectCount, placement, shuffles);
        const archive = inMemoryArchive(objects);
        const replay = plan();

        const keys = [...objects.keys()];
        let next = 0;
        const worker = async () => {
          while (next < keys.length) await replayObject({ archive, projections, stream: { publish: async () => 0 } }, { key: keys[next++]!, replay });
        };
        const done = Promise.all(Array.from({ length: concurrency }, worker));
        await scheduler.waitFor(done);

        const fold = foldProjections(events);
        expect(summaries.summaries()).toEqual(fold.cartSummaries);
        const rows = new Map([...popularity.rows].filter(([, row]) => row.timesAdded !== 0 || row.quantityInOpenCarts !== 0));
        expect(rows).toEqual(fold.itemPopularity);
      }),
      { numRuns: 150 },
    );
  }, 120_000);

  it('counts every event applied once per projection, and every further copy as a duplicate', async () => {
    await fc.assert(
      fc.asyncProperty(archived, async ({ events, objectCount, placement, shuffles }) => {
        const store = new InMemoryEventStore();
        store.seed(events);
        const projections = replayProjections(singleGeneration(new CartProjections([new InMemoryCartSummaryTable(), new InMemoryItemPopularityTable()], store)));
        const objects = archiveObjects(events, objectCount, placement, shuffles);
        const archive = inMemoryArchive(objects);
        let applied = 0;
        let skipped = 0;
        let caughtUp = 0;
        let read = 0;
        for (const key of objects.keys()) {
          const result = await replayObject({ archive, projections, stream: { publish: async () => 0 } }, { key, replay: plan() });
          applied += result.applied;
          skipped += result.skippedDuplicates;
          caughtUp += result.caughtUp;
          read += result.eventsRead;
        }
        // An event applied by catch-up (read from the store to close a gap) arrives later as a duplicate.
        expect(applied + caughtUp).toBe(events.length * 2);
        expect(applied + skipped).toBe(read * 2);
      }),
      { numRuns: 100 },
    );
  }, 60_000);
});
