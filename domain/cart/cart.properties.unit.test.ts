import fc from 'fast-check';
import { CartRuleViolation, decide, evolve, fold, MAX_QUANTITY, quantityOf, type CartCommand, type CartEvent, type CartState } from '.';

/** Properties over any sequence of commands: what decide lets through, evolve can always apply sensibly. */
const sku = fc.constantFrom('A', 'B', 'C', 'sku.with_all-chars.9');
const quantity = fc.integer({ min: 1, max: MAX_QUANTITY });
const command: fc.Arbitrary<CartCommand> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<CartCommand>({ type: 'OpenCart' }) },
  { weight: 5, arbitrary: fc.record({ type: fc.constant('AddItem' as const), sku, quantity }) },
  {
    weight: 4,
    arbitrary: fc
      .record({ type: fc.constant('RemoveItem' as const), sku, quantity: fc.option(quantity, { nil: undefined }) })
      .map(({ quantity: q, ...rest }): CartCommand => (q === undefined ? rest : { ...rest, quantity: q })),
  },
  { weight: 1, arbitrary: fc.constant<CartCommand>({ type: 'CloseCart' }) },
);

/** Runs the commands the way the application does: decide on the current state, keep what was accepted. */
function run(commands: readonly CartCommand[]): { state: CartState; events: CartEvent[]; refused: number } {
  let state: CartState = { status: 'NONE' };
  const events: CartEvent[] = [];
  let refused = 0;
  for (const c of commands) {
    try {
      const decided = decide(c, state);
      for (const event of decided) state = evolve(state, event);
      events.push(...decided);
    } catch (error) {
      if (!(error instanceof CartRuleViolation)) throw error;
      refused++;
    }
  }
  return { state, events, refused };
}

describe('cart properties', () => {
  it('quantities are never zero or negative, and a sku appears at most once', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const { state } = run(commands);
        if (state.status === 'NONE') return;
        expect(state.items.every((line) => Number.isInteger(line.quantity) && line.quantity > 0)).toBe(true);
        expect(new Set(state.items.map((line) => line.sku)).size).toBe(state.items.length);
      }),
    );
  });

  it('each line holds what was added minus what was removed', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const { state, events } = run(commands);
        const net = new Map<string, number>();
        for (const e of events) {
          if (e.type === 'ItemAdded') net.set(e.data.sku, (net.get(e.data.sku) ?? 0) + e.data.quantity);
          if (e.type === 'ItemRemoved') net.set(e.data.sku, (net.get(e.data.sku) ?? 0) - e.data.quantity);
        }
        for (const [s, n] of net) expect(quantityOf(state, s)).toBe(n);
      }),
    );
  });

  it('replaying the accepted events gives the same state (fold is what the store reload does)', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const { state, events } = run(commands);
        expect(fold(events)).toEqual(state);
      }),
    );
  });

  it('nothing is accepted before CartOpened or after CartClosed, and each decision is exactly one event', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const { events } = run(commands);
        if (events.length === 0) return;
        expect(events[0]!.type).toBe('CartOpened');
        expect(events.filter((e) => e.type === 'CartOpened')).toHaveLength(1);
        const closedAt = events.findIndex((e) => e.type === 'CartClosed');
        if (closedAt !== -1) expect(closedAt).toBe(events.length - 1);
      }),
    );
  });

  it('decide is pure: the same command on the same state decides the same events', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), command, (history, next) => {
        const { state } = run(history);
        const first = (() => { try { return decide(next, state); } catch (e) { return (e as CartRuleViolation).rule; } })();
        const second = (() => { try { return decide(next, state); } catch (e) { return (e as CartRuleViolation).rule; } })();
        expect(second).toEqual(first);
      }),
    );
  });
});
