/**
 * How the event store keeps events, which decides how a stream record is split into events. It is configured
 * (CDC_STORE_LAYOUT), never guessed from a record: a record that does not fit the configured layout is malformed.
 *
 * - `event-per-item`: this project's store. One item per event (key aggregateId + version); an INSERT's new image
 *   IS the event.
 * - `aggregate-item`: the seed's store. One item per aggregate (key `Uuid`) whose `Events` list grows; a MODIFY's
 *   new image holds the old events plus the new ones, each a map {EventUuid, AggregateUuid, Name, Data, Version}
 *   whose Data is the seed's payload: published lifted to today's events (see seed-events.ts and the upcasters).
 */
export const STORE_LAYOUTS = ['event-per-item', 'aggregate-item'] as const;

export type StoreLayout = (typeof STORE_LAYOUTS)[number];

export const DEFAULT_STORE_LAYOUT: StoreLayout = 'event-per-item';

export function isStoreLayout(value: string): value is StoreLayout {
  return (STORE_LAYOUTS as readonly string[]).includes(value);
}

/** Unset means the project's own layout; anything else must name a layout exactly. */
export function parseStoreLayout(raw: string | undefined): StoreLayout {
  if (raw === undefined || raw === '') return DEFAULT_STORE_LAYOUT;
  if (!isStoreLayout(raw)) throw new Error(`unknown store layout "${raw}"; expected one of ${STORE_LAYOUTS.join(', ')}`);
  return raw;
}
