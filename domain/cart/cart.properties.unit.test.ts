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
function run(commands: readonly CartCommand[]): { state: CartState; events: CartEvent[]; refused: number; decisions: CartEvent[][] } {
  let state: CartState = { status: 'NONE' };
  const events: CartEvent[] = [];
  const decisions: CartEvent[][] = [];
  let refused = 0;
  for (const c of commands) {
    try {
      const decided = decide(c, state);
      for (const event of decided) state = evolve(state, event);
      events.push(...decided);
      decisions.push([...decided]);
    } catch (error) {
      if (!(error instanceof CartRuleViolation)) throw error;
      refused++;
    }
  }
  return { state, events, refused, decisions };
}

/**
 * What a cart's events mean, written without evolve or fold: a map of sku to quantity in first-added order (a
 * line that reaches zero goes, and comes back at the end), and the status the last open or close set.
 */
function meaningOf(events: readonly CartEvent[]): CartState {
  let status: 'NONE' | 'OPEN' | 'CLOSED' = 'NONE';
  const quantities = new Map<string, number>();
  for (const event of events) {
    if (event.type === 'CartOpened') status = 'OPEN';
    else if (event.type === 'CartClosed') status = 'CLOSED';
    else {
      const next = (quantities.get(event.data.sku) ?? 0) + (event.type === 'ItemAdded' ? event.data.quantity : -event.data.quantity);
      if (next > 0) quantities.set(event.data.sku, next);
      else quantities.delete(event.data.sku);
    }
  }
  return status === 'NONE' ? { status } : { status, items: [...quantities].map(([sku, quantity]) => ({ sku, quantity })) };
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
      { numRuns: 100 },
    );
  }, 30_000);

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
      { numRuns: 100 },
    );
  }, 30_000);

  it('replaying the accepted events gives what they mean, the state the decisions were made on, and the same from any snapshot', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), fc.nat(), (commands, cut) => {
        const { state, events } = run(commands);
        const reloaded = fold(events);
        expect(reloaded).toEqual(meaningOf(events));
        expect(reloaded).toEqual(state);
        const at = events.length === 0 ? 0 : cut % (events.length + 1);
        expect(fold(events.slice(at), fold(events.slice(0, at)))).toEqual(reloaded);
      }),
      { numRuns: 100 },
    );
  }, 30_000);

  it('nothing is accepted before CartOpened or after CartClosed, and each decision is exactly one event', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
        const { events, decisions } = run(commands);
        expect(decisions.filter((decided) => decided.length !== 1)).toEqual([]);
        if (events.length === 0) return;
        expect(events[0]!.type).toBe('CartOpened');
        expect(events.filter((e) => e.type === 'CartOpened')).toHaveLength(1);
        const closedAt = events.findIndex((e) => e.type === 'CartClosed');
        if (closedAt !== -1) expect(closedAt).toBe(events.length - 1);
      }),
      { numRuns: 100 },
    );
  }, 30_000);

  it('decide is pure: the same command on the same state decides the same events', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), command, (history, next) => {
        const { state } = run(history);
        const first = (() => { try { return decide(next, state); } catch (e) { return (e as CartRuleViolation).rule; } })();
        const second = (() => { try { return decide(next, state); } catch (e) { return (e as CartRuleViolation).rule; } })();
        expect(second).toEqual(first);
      }),
      { numRuns: 100 },
    );
  }, 30_000);
});
