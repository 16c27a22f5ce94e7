import { CartRuleViolation, CURRENT_SCHEMA_VERSION, decide, evolve, fold, upcastCartEvent, type CartCommand, type CartEvent, type CartState } from '.';

/** given events, when a command, then events or a refused rule: the cart's behaviour as a specification. */
function given(...events: CartEvent[]) {
  const state: CartState = fold(events);
  return {
    when: (command: CartCommand) => ({
      then: (...expected: CartEvent[]) => expect(decide(command, state)).toEqual(expected),
      thenRefusedWith: (rule: CartRuleViolation['rule']) => {
        let refusal: unknown;
        try {
          decide(command, state);
        } catch (error) {
          refusal = error;
        }
        expect(refusal).toBeInstanceOf(CartRuleViolation);
        expect((refusal as CartRuleViolation).rule).toBe(rule);
      },
    }),
  };
}

const opened: CartEvent = { type: 'CartOpened', data: {} };
const added = (sku: string, quantity: number): CartEvent => ({ type: 'ItemAdded', data: { sku, quantity } });
const removed = (sku: string, quantity: number): CartEvent => ({ type: 'ItemRemoved', data: { sku, quantity } });
const closed: CartEvent = { type: 'CartClosed', data: {} };

describe('cart decide', () => {
  it('opens a cart that does not exist', () => given().when({ type: 'OpenCart' }).then(opened));
  it('refuses to open a cart twice', () => given(opened).when({ type: 'OpenCart' }).thenRefusedWith('CART_ALREADY_EXISTS'));

  it('adds an item to an open cart', () =>
    given(opened).when({ type: 'AddItem', sku: 'A-1', quantity: 2 }).then(added('A-1', 2)));
  it('refuses an item for a cart that does not exist', () =>
    given().when({ type: 'AddItem', sku: 'A-1', quantity: 1 }).thenRefusedWith('CART_NOT_FOUND'));
  it('refuses any change to a closed cart', () => {
    given(opened, closed).when({ type: 'AddItem', sku: 'A-1', quantity: 1 }).thenRefusedWith('CART_CLOSED');
    given(opened, added('A-1', 1), closed).when({ type: 'RemoveItem', sku: 'A-1' }).thenRefusedWith('CART_CLOSED');
  });
  it('refuses to close a cart twice', () => given(opened, closed).when({ type: 'CloseCart' }).thenRefusedWith('CART_CLOSED'));
  it('closes an open cart', () => given(opened, added('A-1', 1)).when({ type: 'CloseCart' }).then(closed));

  it('removes all of a line when no quantity is given', () =>
    given(opened, added('A-1', 2), added('A-1', 3)).when({ type: 'RemoveItem', sku: 'A-1' }).then(removed('A-1', 5)));
  it('removes part of a line', () =>
    given(opened, added('A-1', 5)).when({ type: 'RemoveItem', sku: 'A-1', quantity: 2 }).then(removed('A-1', 2)));
  it('refuses to remove what is not in the cart', () =>
    given(opened, added('A-1', 1)).when({ type: 'RemoveItem', sku: 'B-2' }).thenRefusedWith('ITEM_NOT_IN_CART'));
  it('refuses to remove more than the cart holds', () =>
    given(opened, added('A-1', 1)).when({ type: 'RemoveItem', sku: 'A-1', quantity: 2 }).thenRefusedWith('NOT_ENOUGH_QUANTITY'));
  it('refuses to remove a line that was removed already', () =>
    given(opened, added('A-1', 1), removed('A-1', 1)).when({ type: 'RemoveItem', sku: 'A-1' }).thenRefusedWith('ITEM_NOT_IN_CART'));
  it('removes a whole line of more than one command may add, and the event it records is a valid one', () => {
    given(opened, added('A-1', 1_000), added('A-1', 1)).when({ type: 'RemoveItem', sku: 'A-1' }).then(removed('A-1', 1_001));
    // Read back as the store, the CDC and the projections read it: a cart must never hold an event it cannot load.
    expect(upcastCartEvent('ItemRemoved', CURRENT_SCHEMA_VERSION.ItemRemoved, { sku: 'A-1', quantity: 1_001 })).toEqual(removed('A-1', 1_001));
  });
});

describe('cart evolve', () => {
  it('keeps lines in first-added order and merges repeated adds', () => {
    expect(fold([opened, added('b', 1), added('a', 2), added('b', 3)])).toEqual({
      status: 'OPEN',
      items: [
        { sku: 'b', quantity: 4 },
        { sku: 'a', quantity: 2 },
      ],
    });
  });
  it('drops a line whose quantity reaches zero', () => {
    expect(fold([opened, added('a', 2), removed('a', 2)])).toEqual({ status: 'OPEN', items: [] });
  });
  it('keeps the lines of a closed cart', () => {
    expect(evolve(fold([opened, added('a', 1)]), closed)).toEqual({ status: 'CLOSED', items: [{ sku: 'a', quantity: 1 }] });
  });
});
