/**
 * Key schema of the event store: one item per event. Appends write only the new items, so the cost of an
 * append does not grow with the history, and no cart meets the 400 KB item limit.
 *
 *   aggregateId (S, partition key)  version (N, sort key)
 *   eventId (S)  aggregateType (S)  type (S)  schemaVersion (N)  occurredAt (S)  data (M)
 */
export const EVENT_STORE_KEY = { partitionKey: 'aggregateId', sortKey: 'version' } as const;
