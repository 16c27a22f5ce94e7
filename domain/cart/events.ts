import { z } from 'zod';
import { Quantity, Sku } from './values';

/**
 * Event payloads, one schema per type and schema version. Stored events keep the schemaVersion they were
 * written with; `upcastCartEvent` turns any stored version into the current shape, so old history stays readable
 * after a payload changes.
 */
export const CartOpenedData = z.object({}).strict();
export const ItemAddedData = z.object({ sku: Sku, quantity: Quantity }).strict();
export const ItemRemovedData = z.object({ sku: Sku, quantity: Quantity }).strict();
export const CartClosedData = z.object({}).strict();

export type CartEvent =
  | { type: 'CartOpened'; data: z.infer<typeof CartOpenedData> }
  | { type: 'ItemAdded'; data: z.infer<typeof ItemAddedData> }
  | { type: 'ItemRemoved'; data: z.infer<typeof ItemRemovedData> }
  | { type: 'CartClosed'; data: z.infer<typeof CartClosedData> };

export type CartEventType = CartEvent['type'];

export const CART_EVENT_TYPES = ['CartOpened', 'ItemAdded', 'ItemRemoved', 'CartClosed'] as const satisfies readonly CartEventType[];

export const CURRENT_SCHEMA_VERSION: Record<CartEventType, number> = {
  CartOpened: 1,
  ItemAdded: 1,
  ItemRemoved: 1,
  CartClosed: 1,
};

type Upcaster = (data: unknown) => unknown;

/** Keyed by `${type}@${fromVersion}`: each step lifts a payload one schema version. None exist yet. */
const UPCASTERS: Partial<Record<string, Upcaster>> = {};

const CURRENT_SCHEMAS: Record<CartEventType, z.ZodType> = {
  CartOpened: CartOpenedData,
  ItemAdded: ItemAddedData,
  ItemRemoved: ItemRemovedData,
  CartClosed: CartClosedData,
};

export class UnknownEventError extends Error {
  override readonly name = 'UnknownEventError';
}

export function isCartEventType(type: string): type is CartEventType {
  return (CART_EVENT_TYPES as readonly string[]).includes(type);
}

/**
 * Validates a stored payload and lifts it to the current schema version.
 * Throws UnknownEventError when no schema accepts it: such an event must never be applied silently.
 */
export function upcastCartEvent(type: string, schemaVersion: number, data: unknown): CartEvent {
  if (!isCartEventType(type)) throw new UnknownEventError(`unknown event type "${type}"`);
  const current = CURRENT_SCHEMA_VERSION[type];
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1 || schemaVersion > current) {
    throw new UnknownEventError(`${type} has unsupported schemaVersion ${schemaVersion} (current is ${current})`);
  }
  let payload = data;
  for (let version = schemaVersion; version < current; version++) {
    const step = UPCASTERS[`${type}@${version}`];
    if (!step) throw new UnknownEventError(`no upcaster for ${type} from schemaVersion ${version}`);
    payload = step(payload);
  }
  const parsed = CURRENT_SCHEMAS[type].safeParse(payload);
  if (!parsed.success) {
    throw new UnknownEventError(`${type} data rejected: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  }
  return { type, data: parsed.data } as CartEvent;
}
