import { CURRENT_SCHEMA_VERSION, UnknownEventError, upcastSeedCartEvent } from '../cart/events';
import { CART_AGGREGATE_TYPE, type EventEnvelope } from '../events/envelope';

/**
 * The seed's tables (the blog series' Ruby code), in the two layouts it used:
 * - `aggregate-item`: one item per cart, key `Uuid` (S), whose `Events` list (L) grows; each element a map
 *   {EventUuid (S), AggregateUuid (S), Name (S), Data (M), Version (N)}.
 * - `event-per-item` (its later code): one item per event, key `AggregateUuid` (S) + `Version` (N), with
 *   `EventUuid`, `Name`, `Data`.
 * Either way an event is the same map; the seed stored no time and no schema version with it.
 */
export const SEED_TABLE_LAYOUTS = ['aggregate-item', 'event-per-item'] as const;
export type SeedTableLayout = (typeof SEED_TABLE_LAYOUTS)[number];

export function isSeedTableLayout(value: string): value is SeedTableLayout {
  return (SEED_TABLE_LAYOUTS as readonly string[]).includes(value);
}

/** One event as the seed's code writes it: an element of an `Events` list, or (later layout) one item's attributes. */
export interface SeedEvent {
  readonly EventUuid: string;
  readonly AggregateUuid: string;
  readonly Name: string;
  readonly Data: Record<string, unknown>;
  readonly Version: number;
}

/** Why a seed event or item cannot be carried over: its shape is wrong, or its payload is one no schema accepts. */
export type SeedRefusal = { readonly problem: 'malformed-record' | 'rejected-event'; readonly reason: string };

export type SeedRead<T> = ({ readonly ok: true } & T) | ({ readonly ok: false } & SeedRefusal);

/**
 * One seed event as today's envelope: same event id, same version, the payload lifted through the upcasters
 * (upcastSeedCartEvent), checked to belong to `aggregateId`. `occurredAt` comes from the caller: the seed kept none.
 */
export function envelopeOfSeedEvent(event: unknown, aggregateId: string, occurredAt: string): SeedRead<{ envelope: EventEnvelope }> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return malformed('the event is not a map');
  const fields = event as Record<string, unknown>;
  const eventId = fields.EventUuid;
  if (typeof eventId !== 'string' || eventId === '') return malformed('EventUuid is missing or not a non-empty string');
  const version = fields.Version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    return malformed(`event ${eventId}: Version is missing or not a positive integer`);
  }
  if (fields.AggregateUuid !== undefined && fields.AggregateUuid !== aggregateId) {
    return malformed(`event ${eventId} names aggregate ${String(fields.AggregateUuid)} inside item ${aggregateId}`);
  }
  if (typeof fields.Name !== 'string') return malformed(`event ${eventId}: Name is missing or not a string`);
  try {
    const lifted = upcastSeedCartEvent(fields.Name, fields.Data, aggregateId);
    return {
      ok: true,
      envelope: {
        eventId,
        aggregateType: CART_AGGREGATE_TYPE,
        aggregateId,
        version,
        type: lifted.type,
        schemaVersion: CURRENT_SCHEMA_VERSION[lifted.type],
        occurredAt,
        data: lifted.data,
      },
    };
  } catch (error) {
    if (!(error instanceof UnknownEventError)) throw error;
    return { ok: false, problem: 'rejected-event', reason: `event ${eventId} (version ${version}): ${error.message}` };
  }
}

/**
 * Every event of one seed table item as envelopes of the cart it belongs to. An aggregate item is taken whole or
 * not at all: its events must all be readable and hold versions 1..n with no hole, else the cart would be carried
 * over with a hole nobody was told about.
 */
export function envelopesOfSeedItem(item: Readonly<Record<string, unknown>>, layout: SeedTableLayout, occurredAt: string): SeedRead<{ cartId: string; envelopes: EventEnvelope[] }> {
  if (layout === 'event-per-item') {
    const cartId = item.AggregateUuid;
    if (typeof cartId !== 'string' || cartId === '') return malformed('the item has no string AggregateUuid');
    const read = envelopeOfSeedEvent(item, cartId, occurredAt);
    return read.ok ? { ok: true, cartId, envelopes: [read.envelope] } : read;
  }
  const cartId = item.Uuid;
  if (typeof cartId !== 'string' || cartId === '') return malformed('the item has no string Uuid');
  const list = item.Events ?? [];
  if (!Array.isArray(list)) return malformed(`cart ${cartId}: Events is not a list`);
  const envelopes: EventEnvelope[] = [];
  for (const event of list) {
    const read = envelopeOfSeedEvent(event, cartId, occurredAt);
    if (!read.ok) return { ok: false, problem: read.problem, reason: `cart ${cartId}: ${read.reason}` };
    envelopes.push(read.envelope);
  }
  envelopes.sort((a, b) => a.version - b.version);
  const hole = envelopes.findIndex((envelope, index) => envelope.version !== index + 1);
  if (hole !== -1) {
    return malformed(`cart ${cartId}: its events hold versions ${envelopes.map((e) => e.version).join(', ')}; expected 1..${envelopes.length} with no hole or repeat`);
  }
  return { ok: true, cartId, envelopes };
}

function malformed(reason: string): { ok: false; problem: 'malformed-record'; reason: string } {
  return { ok: false, problem: 'malformed-record', reason };
}
