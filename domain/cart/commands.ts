import type { Quantity, Sku } from './values';

export type CartCommand =
  | { type: 'OpenCart' }
  | { type: 'AddItem'; sku: Sku; quantity: Quantity }
  | { type: 'RemoveItem'; sku: Sku; quantity?: Quantity }
  | { type: 'CloseCart' };
