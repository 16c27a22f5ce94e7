import type { CartCommand } from './commands';
import { unreachable, type CartEvent } from './events';
import { quantityOf, type CartState } from './state';

export type CartRule = 'CART_NOT_FOUND' | 'CART_ALREADY_EXISTS' | 'CART_CLOSED' | 'ITEM_NOT_IN_CART' | 'NOT_ENOUGH_QUANTITY';

/** A command that the cart's current state refuses. Nothing is appended. */
export class CartRuleViolation extends Error {
  override readonly name = 'CartRuleViolation';
  constructor(
    readonly rule: CartRule,
    message: string,
  ) {
    super(message);
  }
}

/** The events a command records on the cart's state: none when it changes nothing (a quantity set to what it is). */
export function decide(command: CartCommand, state: CartState): CartEvent[] {
  if (command.type === 'OpenCart') {
    if (state.status !== 'NONE') throw new CartRuleViolation('CART_ALREADY_EXISTS', 'the cart already exists');
    return [{ type: 'CartOpened', data: {} }];
  }
  if (state.status === 'NONE') throw new CartRuleViolation('CART_NOT_FOUND', 'the cart does not exist');
  if (state.status === 'CLOSED') {
    throw new CartRuleViolation('CART_CLOSED', command.type === 'CloseCart' ? 'the cart is already closed' : 'the cart is closed and takes no change');
  }
  switch (command.type) {
    case 'AddItem':
      return [{ type: 'ItemAdded', data: { sku: command.sku, quantity: command.quantity } }];
    case 'RemoveItem': {
      const inCart = quantityOf(state, command.sku);
      if (inCart === 0) throw new CartRuleViolation('ITEM_NOT_IN_CART', `sku "${command.sku}" is not in the cart`);
      const quantity = command.quantity ?? inCart;
      if (quantity > inCart) {
        throw new CartRuleViolation('NOT_ENOUGH_QUANTITY', `cannot remove ${quantity} of sku "${command.sku}": the cart holds ${inCart}`);
      }
      return [{ type: 'ItemRemoved', data: { sku: command.sku, quantity } }];
    }
    case 'SetItemQuantity': {
      const previousQuantity = quantityOf(state, command.sku);
      // Nothing to record: the caller answers the cart's stored version.
      if (previousQuantity === command.quantity) return [];
      return [{ type: 'ItemQuantityChanged', data: { sku: command.sku, quantity: command.quantity, previousQuantity } }];
    }
    case 'CloseCart':
      return [{ type: 'CartClosed', data: {} }];
    default:
      return unreachable(command, 'command');
  }
}
