import fc from 'fast-check';
import { anyCommand, anyEvent, cartHistories } from './arbitraries';
import { CART_COMMAND_SCHEMAS, CART_COMMAND_TYPES } from './commands';
import { CART_EVENT_SCHEMAS, CART_EVENT_TYPES } from './events';

/** The generators are only worth what they cover: valid values, of every type the domain lists. */
describe('test generators (domain/cart/arbitraries.ts)', () => {
  it('generates only commands their schema accepts', () => {
    fc.assert(
      fc.property(anyCommand(), ({ type, ...fields }) => {
        expect(CART_COMMAND_SCHEMAS[type].safeParse(fields).success).toBe(true);
      }),
      { numRuns: 300 },
    );
  }, 20_000);

  it('generates only events their current schema accepts', () => {
    fc.assert(
      fc.property(anyEvent(), (event) => {
        expect(CART_EVENT_SCHEMAS[event.type].schema.safeParse(event.data).success).toBe(true);
      }),
      { numRuns: 300 },
    );
  }, 20_000);

  it('draws every command and every event type, and histories record every event type but CartOpened-only ones', () => {
    const commands = new Set(fc.sample(anyCommand(), { numRuns: 500, seed: 1 }).map((c) => c.type));
    expect([...commands].sort()).toEqual([...CART_COMMAND_TYPES].sort());
    const events = new Set(fc.sample(anyEvent(), { numRuns: 500, seed: 1 }).map((e) => e.type));
    expect([...events].sort()).toEqual([...CART_EVENT_TYPES].sort());
    const recorded = new Set(fc.sample(cartHistories(), { numRuns: 200, seed: 1 }).flatMap((carts) => carts.flatMap((cart) => cart.events.map((e) => e.type))));
    expect([...recorded].sort()).toEqual([...CART_EVENT_TYPES].sort());
  }, 20_000);
});
