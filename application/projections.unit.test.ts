import fc from 'fast-check';
import { CartRuleViolation, decide, evolve, initialCartState, type CartCommand, type CartState } from '../domain/cart';
import type { EventEnvelope } from '../domain/events';
import { foldProjections } from '../domain/projections';
import { stampEvents } from './cart-commands';
import { InMemoryCartSummaryTable, InMemoryItemPopularityTable } from './in-memory-projection-tables';
import { CartProjections, MissingHistoryError } from './projections';

const SKUS = ['A', 'B', 'C', 'D'];

const command: fc.Arbitrary<CartCommand> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('AddItem' as const), sku: fc.constantFrom(...SKUS), quantity: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('RemoveItem' as const), sku: fc.constantFrom(...SKUS) }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('CloseCart' as const) }) },
);

/** Carts with valid histories: the commands the cart accepts, turned into stored events. */
const history = fc.array(fc.array(command, { maxLength: 12 }), { minLength: 1, maxLength: 4 }).map((carts) => {
  const events: EventEnvelope[] = [];
  let id = 0;
  carts.forEach((commands, cartIndex) => {
    const cartId = `cart-${cartIndex}`;
    let state: CartState = initialCartState;
    let version = 0;
    for (const cmd of [{ type: 'OpenCart' } as CartCommand, ...commands]) {
      let decided;
      try {
        decided = decide(cmd, state);
      } catch (error) {
        if (error instanceof CartRuleViolation) continue;
        throw error;
      }
      const stamped = stampEvents(cartId, version, decided, new Date(0), () => `e${id++}`);
      for (const event of decided) state = evolve(state, event);
      version += stamped.length;
      events.push(...stamped);
    }
  });
  return events;
});

/** A delivery: a random selection of the history, some events repeated, in random order. */
const scenario = history.chain((events) =>
  fc.record({
    events: fc.constant(events),
    delivered: fc
      .array(fc.record({ index: fc.nat({ max: events.length - 1 }), key: fc.double({ noNaN: true }) }), { minLength: 1, maxLength: events.length * 3 })
      .map((picks) => [...picks].sort((a, b) => a.key - b.key).map((pick) => events[pick.index]!)),
    everyEventAtLeastOnce: fc.boolean(),
    chunk: fc.integer({ min: 1, max: 10 }),
  }).map(({ events, delivered, everyEventAtLeastOnce, chunk }) => ({
    events,
    delivered: everyEventAtLeastOnce ? [...delivered, ...events.slice().reverse()] : delivered,
    chunk,
  })),
);

function storeOf(events: readonly EventEnvelope[]) {
  return {
    readStream: async (aggregateId: string) => {
      const stream = events.filter((e) => e.aggregateId === aggregateId);
      return { events: stream, version: stream.at(-1)?.version ?? 0 };
    },
  };
}

/** Catch-up policy modelled: a cart ends at the highest version delivered, with every version below from the store. */
function expectedFor(events: readonly EventEnvelope[], delivered: readonly EventEnvelope[]) {
  const highest = new Map<string, number>();
  for (const e of delivered) highest.set(e.aggregateId, Math.max(highest.get(e.aggregateId) ?? 0, e.version));
  return foldProjections(events.filter((e) => e.version <= (highest.get(e.aggregateId) ?? 0)));
}

function setUp(events: readonly EventEnvelope[], beforeWrite?: () => Promise<void>) {
  const summary = new InMemoryCartSummaryTable(beforeWrite);
  const popularity = new InMemoryItemPopularityTable(beforeWrite);
  return { summary, popularity, projections: new CartProjections([summary, popularity], storeOf(events)) };
}

describe('projections under at-least-once, out-of-order delivery (property)', () => {
  it('one event at a time, as a stream consumer applies them, equals a from-scratch fold', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, delivered }) => {
        const { summary, popularity, projections } = setUp(events);
        for (const envelope of delivered) await projections.applyOne(envelope);
        const expected = expectedFor(events, delivered);
        expect(summary.summaries()).toEqual(expected.cartSummaries);
        expect(popularity.rows).toEqual(expected.itemPopularity);
      }),
      { numRuns: 300 },
    );
  }, 120_000);

  it('records of a batch applied concurrently, as the Kinesis handler does, equal a from-scratch fold', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, delivered, chunk }) => {
        const { summary, popularity, projections } = setUp(events);
        let outcomes = 0;
        for (let i = 0; i < delivered.length; i += chunk) {
          const results = await Promise.all(delivered.slice(i, i + chunk).map((envelope) => projections.applyOne(envelope)));
          outcomes += results.filter((r) => r === 'applied' || r === 'duplicate').length;
        }
        expect(outcomes).toBe(delivered.length);
        const expected = expectedFor(events, delivered);
        expect(summary.summaries()).toEqual(expected.cartSummaries);
        expect(popularity.rows).toEqual(expected.itemPopularity);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('in batches, as a replay applies them, equals a from-scratch fold and counts every input event once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ events, delivered, chunk }) => {
        const { summary, popularity, projections } = setUp(events);
        let applied = 0;
        let skipped = 0;
        for (let i = 0; i < delivered.length; i += chunk) {
          const report = await projections.apply(delivered.slice(i, i + chunk));
          const counts = report.projections['cart-summary']!;
          applied += counts.applied;
          skipped += counts.skipped;
        }
        expect(applied + skipped).toBe(delivered.length);
        const expected = expectedFor(events, delivered);
        expect(summary.summaries()).toEqual(expected.cartSummaries);
        expect(popularity.rows).toEqual(expected.itemPopularity);
      }),
      { numRuns: 300 },
    );
  }, 60_000);

  it('two writers racing on the same tables (live consumer and replay) still apply each event once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, fc.scheduler(), async ({ events, delivered, chunk }, s) => {
        const summary = new InMemoryCartSummaryTable(() => s.schedule(Promise.resolve()));
        const popularity = new InMemoryItemPopularityTable(() => s.schedule(Promise.resolve()));
        const live = new CartProjections([summary, popularity], storeOf(events));
        const replay = new CartProjections([summary, popularity], storeOf(events));
        const liveRun = (async () => {
          for (const envelope of delivered) await live.applyOne(envelope);
        })();
        const replayRun = (async () => {
          for (let i = 0; i < events.length; i += chunk) await replay.apply(events.slice(i, i + chunk));
        })();
        await s.waitFor(Promise.all([liveRun, replayRun]));
        const expected = foldProjections(events);
        expect(summary.summaries()).toEqual(expected.cartSummaries);
        expect(popularity.rows).toEqual(expected.itemPopularity);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});

describe('projection policies', () => {
  const cart = (version: number, type: string, data: Record<string, unknown> = {}): EventEnvelope => ({
    eventId: `id-${version}`,
    aggregateType: 'Cart',
    aggregateId: 'c1',
    version,
    type,
    schemaVersion: 1,
    occurredAt: '2026-01-01T00:00:00.000Z',
    data,
  });
  const history = [cart(1, 'CartOpened'), cart(2, 'ItemAdded', { sku: 'A', quantity: 2 }), cart(3, 'ItemAdded', { sku: 'B', quantity: 1 })];

  it('catches a gap up from the event store and reports what it read there', async () => {
    const { summary, projections } = setUp(history);
    const report = await projections.apply([history[2]!]);
    expect(report.projections['cart-summary']).toEqual({ applied: 1, skipped: 0, caughtUp: 2, ignored: 0 });
    expect(summary.summaries().get('c1')).toEqual({
      cartId: 'c1',
      status: 'OPEN',
      items: [
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 1 },
      ],
      totalQuantity: 3,
      version: 3,
    });
  });

  it('fails an event whose predecessors the event store does not have, and changes nothing', async () => {
    const { summary, projections } = setUp([history[0]!]);
    await expect(projections.apply([history[2]!])).rejects.toBeInstanceOf(MissingHistoryError);
    expect(summary.cursors.size).toBe(0);
  });

  it('fails an event of an unknown type instead of skipping it', async () => {
    const { projections } = setUp(history);
    await projections.apply([history[0]!]);
    await expect(projections.apply([cart(2, 'ItemTeleported')])).rejects.toThrow(/unknown event type/);
  });

  it('applies replayed events like any other, and passes other aggregates by', async () => {
    const { projections } = setUp(history);
    expect(await projections.applyOne({ ...history[0]!, metadata: { replayed: true } })).toBe('applied');
    expect(await projections.applyOne(history[0]!)).toBe('duplicate');
    expect(await projections.applyOne({ ...history[1]!, aggregateType: 'Order' })).toBe('ignored');
  });

  it('confirms a remembered cursor before skipping: after a reset elsewhere, events are applied again', async () => {
    const { summary, projections } = setUp(history);
    await projections.apply(history);
    await summary.reset();
    await projections.apply([history[0]!]);
    expect(summary.summaries().get('c1')?.version).toBe(1);
  });
});
