import { z } from 'zod';
import { skuOfSeedItemName } from './seed-sku';
import { LineQuantity, Quantity, Sku } from './values';

/**
 * Event payloads, one schema per type and payload version. Stored events keep the schemaVersion they were
 * written with; the upcasters below lift any known version, one step at a time, to the current shape, so old
 * history stays readable after a payload changes.
 *
 * Versions of each type:
 *   CartOpened, CartClosed  seed-v0 -> seed-v1 -> 1 (current)
 *   ItemAdded               seed-v0 -> seed-v1 -> 2 (current);  1 -> 2
 *   ItemRemoved             1 (current)
 *   ItemQuantityChanged     1 (current)
 * Numbered versions are this project's (the envelope's schemaVersion). The seed (the blog series' Ruby code) stored
 * no version and has no ItemRemoved; its payloads as written are `seed-v0`, and `seed-v1` is the same payload once
 * its cart id has been checked against the aggregate and dropped. Seed payloads are lifted where they enter this
 * system (the CDC's aggregate-item layout, `npm run import-seed`), so that no seed version is ever stored here.
 */
export const CartOpenedData = z.object({}).strict();
export const ItemAddedDataV1 = z.object({ sku: Sku, quantity: Quantity }).strict();
/** v2: the item's display name, when the event has one (events lifted from the seed; today's commands set none). */
export const ItemAddedData = z.object({ sku: Sku, quantity: Quantity, name: z.string().min(1).optional() }).strict();
/** Removing a whole line (no quantity in the command) removes all of it, which may be more than MAX_QUANTITY. */
export const ItemRemovedData = z.object({ sku: Sku, quantity: LineQuantity }).strict();
export const CartClosedData = z.object({}).strict();
/**
 * A line's quantity set to `quantity` (PUT /carts/{cartId}/items/{sku}); `previousQuantity` is what the line held
 * before, 0 when the cart had no such line (the command then adds it). Never recorded with the two equal.
 */
export const ItemQuantityChangedData = z
  .object({
    sku: Sku,
    quantity: Quantity,
    previousQuantity: z.number({ error: 'previousQuantity must be a number' }).int({ error: 'previousQuantity must be an integer' }).min(0, { error: 'previousQuantity must be at least 0' }),
  })
  .strict()
  .refine((data) => data.quantity !== data.previousQuantity, { error: 'quantity must differ from previousQuantity' });

const SeedCartId = z.string({ error: 'shopping_cart_uuid must be a string' }).min(1, { error: 'shopping_cart_uuid must not be empty' });
const SeedItemName = z.string({ error: 'item_name must be a string' }).min(1, { error: 'item_name must not be empty' });
/** The seed's payloads as its Ruby code writes them (app/app/events/). */
export const SeedCartOpenedData = z.object({ shopping_cart_uuid: SeedCartId }).strict();
export const SeedItemAddedData = z.object({ shopping_cart_uuid: SeedCartId, item_name: SeedItemName }).strict();
export const SeedCartClosedData = z.object({ shopping_cart_uuid: SeedCartId }).strict();

/**
 * The one list of event types: each type's current payload schema and schemaVersion. The CartEvent union, the
 * list of types and every Record<CartEventType, ...> below derive from it, so a type added here is missing
 * nowhere without the compiler saying so (docs/contributing.md).
 */
export const CART_EVENT_SCHEMAS = {
  CartOpened: { schemaVersion: 1, schema: CartOpenedData },
  ItemAdded: { schemaVersion: 2, schema: ItemAddedData },
  ItemRemoved: { schemaVersion: 1, schema: ItemRemovedData },
  ItemQuantityChanged: { schemaVersion: 1, schema: ItemQuantityChangedData },
  CartClosed: { schemaVersion: 1, schema: CartClosedData },
} as const satisfies Record<string, { schemaVersion: number; schema: z.ZodType }>;

export type CartEventType = keyof typeof CART_EVENT_SCHEMAS;

export type CartEvent = { [T in CartEventType]: { type: T; data: z.infer<(typeof CART_EVENT_SCHEMAS)[T]['schema']> } }[CartEventType];

/** An event of one type: `CartEventOf<'ItemAdded'>['data']` is its payload. */
export type CartEventOf<T extends CartEventType> = Extract<CartEvent, { type: T }>;

export const CART_EVENT_TYPES = Object.keys(CART_EVENT_SCHEMAS) as readonly CartEventType[];

/** A record with one entry per event type, computed from the type. */
export function byEventType<V>(entry: (type: CartEventType) => V): Record<CartEventType, V> {
  return Object.fromEntries(CART_EVENT_TYPES.map((type) => [type, entry(type)])) as Record<CartEventType, V>;
}

export const CURRENT_SCHEMA_VERSION: Readonly<Record<CartEventType, number>> = byEventType((type) => CART_EVENT_SCHEMAS[type].schemaVersion);

/**
 * Ends a switch over a closed set of names (event types, commands, routes): a case left out makes `value` not
 * `never` and fails the type check; at run time (a value from outside the types) it throws.
 */
export function unreachable(value: never, what = 'value'): never {
  throw new TypeError(`unhandled ${what}: ${JSON.stringify(value)}`);
}

/** The seed's payload versions: they are never stored here, so they need no number. */
export const SEED_PAYLOAD_VERSIONS = ['seed-v0', 'seed-v1'] as const;
export type SeedPayloadVersion = (typeof SEED_PAYLOAD_VERSIONS)[number];
export type PayloadVersion = number | SeedPayloadVersion;

/** What a step may need beyond the payload: the seed's payloads repeat the aggregate id, which is checked. */
export interface UpcastContext {
  readonly aggregateId?: string;
}

interface PayloadSchema {
  readonly schema: z.ZodType;
  /** The step to the next version; absent on the current version. It gets the payload as `schema` parsed it. */
  readonly next?: { readonly to: PayloadVersion; readonly lift: (data: never, context: UpcastContext) => unknown };
}

export class UnknownEventError extends Error {
  override readonly name = 'UnknownEventError';
}

/** seed-v0 -> seed-v1: the cart id in the payload says nothing the aggregate id does not, once checked equal. */
function checkedWithoutCartId<T extends { shopping_cart_uuid: string }>(data: T, context: UpcastContext): Omit<T, 'shopping_cart_uuid'> {
  if (context.aggregateId === undefined) throw new TypeError('a seed payload is lifted with the id of the aggregate it belongs to');
  const { shopping_cart_uuid: cartId, ...rest } = data;
  if (cartId !== context.aggregateId) {
    throw new UnknownEventError(`shopping_cart_uuid "${cartId}" is not the cart the event belongs to ("${context.aggregateId}")`);
  }
  return rest;
}

/** The versions before the current one, with the step from each to the next; the current comes from CART_EVENT_SCHEMAS. */
const OLDER_PAYLOADS: Record<CartEventType, readonly (readonly [PayloadVersion, PayloadSchema])[]> = {
  CartOpened: [
    ['seed-v0', { schema: SeedCartOpenedData, next: { to: 'seed-v1', lift: checkedWithoutCartId } }],
    ['seed-v1', { schema: CartOpenedData, next: { to: 1, lift: (data: object) => data } }],
  ],
  ItemAdded: [
    ['seed-v0', { schema: SeedItemAddedData, next: { to: 'seed-v1', lift: checkedWithoutCartId } }],
    [
      'seed-v1',
      {
        schema: z.object({ item_name: SeedItemName }).strict(),
        // The seed had no quantities: each ItemAdded was one more of the item.
        next: { to: 2, lift: ({ item_name }: { item_name: string }) => ({ sku: skuOfSeedItemName(item_name), quantity: 1, name: item_name }) },
      },
    ],
    [1, { schema: ItemAddedDataV1, next: { to: 2, lift: (data: z.infer<typeof ItemAddedDataV1>) => data } }],
  ],
  ItemRemoved: [],
  ItemQuantityChanged: [],
  CartClosed: [
    ['seed-v0', { schema: SeedCartClosedData, next: { to: 'seed-v1', lift: checkedWithoutCartId } }],
    ['seed-v1', { schema: CartClosedData, next: { to: 1, lift: (data: object) => data } }],
  ],
};

const PAYLOAD_VERSIONS = byEventType(
  (type) => new Map<PayloadVersion, PayloadSchema>([...OLDER_PAYLOADS[type], [CART_EVENT_SCHEMAS[type].schemaVersion, { schema: CART_EVENT_SCHEMAS[type].schema }]]),
);

export function isCartEventType(type: string): type is CartEventType {
  return Object.hasOwn(CART_EVENT_SCHEMAS, type);
}

/**
 * Validates a stored payload and lifts it to the current schema version.
 * Throws UnknownEventError when no schema accepts it: such an event must never be applied silently.
 */
export function upcastCartEvent(type: string, schemaVersion: number, data: unknown): CartEvent {
  if (!isCartEventType(type)) throw new UnknownEventError(`unknown event type "${type}"`);
  const current = CURRENT_SCHEMA_VERSION[type];
  if (!Number.isInteger(schemaVersion) || !PAYLOAD_VERSIONS[type].has(schemaVersion)) {
    throw new UnknownEventError(`${type} has unsupported schemaVersion ${schemaVersion} (current is ${current})`);
  }
  return liftPayload(type, schemaVersion, data, {});
}

/**
 * An event of the seed (its `Name` and `Data` as the seed stored them) lifted to the current version, checked to
 * belong to the cart `aggregateId`. Throws UnknownEventError for anything the seed could not have written.
 */
export function upcastSeedCartEvent(name: string, data: unknown, aggregateId: string): CartEvent {
  if (!isCartEventType(name) || !PAYLOAD_VERSIONS[name].has('seed-v0')) throw new UnknownEventError(`the seed has no event type "${name}"`);
  return liftPayload(name, 'seed-v0', data, { aggregateId });
}

function liftPayload(type: CartEventType, from: PayloadVersion, data: unknown, context: UpcastContext): CartEvent {
  const versions = PAYLOAD_VERSIONS[type];
  let version = from;
  let payload = data;
  for (;;) {
    const step = versions.get(version);
    if (!step) throw new UnknownEventError(`no schema for ${type} version ${version}`);
    const parsed = step.schema.safeParse(payload);
    if (!parsed.success) {
      const which = version === CURRENT_SCHEMA_VERSION[type] ? '' : ` (version ${version})`;
      throw new UnknownEventError(`${type}${which} data rejected: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
    }
    if (!step.next) return { type, data: parsed.data } as CartEvent;
    payload = step.next.lift(parsed.data as never, context);
    version = step.next.to;
  }
}
