import type { EventEnvelope } from '../domain/events';
import { InMemoryEventStore } from './in-memory-event-store';

/** The `version`th event of a cart's history in the consumers' tests: every event adds one of item A. */
export const itemAdded = (cartId: string, version: number): EventEnvelope => ({
  eventId: `${cartId}-${version}`,
  aggregateType: 'Cart',
  aggregateId: cartId,
  version,
  type: 'ItemAdded',
  schemaVersion: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data: { sku: 'A', quantity: 1 },
});

/** An event store holding, per cart, a history of that many events; `events` lists them all, cart by cart. */
export async function storeWithHistories(histories: Record<string, number>): Promise<{ store: InMemoryEventStore; events: EventEnvelope[] }> {
  const store = new InMemoryEventStore();
  const events: EventEnvelope[] = [];
  for (const [cartId, length] of Object.entries(histories)) {
    const history = Array.from({ length }, (_, i) => itemAdded(cartId, i + 1));
    await store.appendToStream(cartId, 0, history);
    events.push(...history);
  }
  return { store, events };
}
