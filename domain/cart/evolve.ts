import { unreachable, type CartEvent } from './events';
import type { CartLine, CartState } from './state';

export function evolve(state: CartState, event: CartEvent): CartState {
  switch (event.type) {
    case 'CartOpened':
      return { status: 'OPEN', items: [] };
    case 'ItemAdded':
      return withItems(state, addLine(linesOf(state), event.data.sku, event.data.quantity, event.data.name));
    case 'ItemRemoved':
      return withItems(state, addLine(linesOf(state), event.data.sku, -event.data.quantity));
    case 'ItemQuantityChanged': {
      const lines = linesOf(state);
      const inCart = lines.find((line) => line.sku === event.data.sku)?.quantity ?? 0;
      return withItems(state, addLine(lines, event.data.sku, event.data.quantity - inCart));
    }
    case 'CartClosed':
      return { status: 'CLOSED', items: linesOf(state) };
    default:
      return unreachable(event, 'event type');
  }
}

export function fold(events: Iterable<CartEvent>, from: CartState = { status: 'NONE' }): CartState {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
}

function linesOf(state: CartState): readonly CartLine[] {
  return state.status === 'NONE' ? [] : state.items;
}

function withItems(state: CartState, items: readonly CartLine[]): CartState {
  return { status: state.status === 'CLOSED' ? 'CLOSED' : 'OPEN', items };
}

/** Keeps lines in first-added order; a line whose quantity reaches zero disappears; a line keeps the first name it got. */
function addLine(lines: readonly CartLine[], sku: string, delta: number, name?: string): readonly CartLine[] {
  const index = lines.findIndex((line) => line.sku === sku);
  if (index === -1) return delta > 0 ? [...lines, name === undefined ? { sku, quantity: delta } : { sku, quantity: delta, name }] : lines;
  const line = lines[index]!;
  const quantity = line.quantity + delta;
  const lineName = line.name ?? name;
  return quantity > 0
    ? lines.map((other, i) => (i === index ? (lineName === undefined ? { sku, quantity } : { sku, quantity, name: lineName }) : other))
    : lines.filter((_, i) => i !== index);
}
