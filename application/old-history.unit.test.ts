import { CURRENT_SCHEMA_VERSION } from '../domain/cart';
import { envelopesOfSeedItem } from '../domain/cdc';
import type { EventEnvelope } from '../domain/events';
import { executeCartCommand, loadCart } from './cart-commands';
import { InMemoryEventStore } from './in-memory-event-store';
import { InMemoryCartSummaryTable, InMemoryItemPopularityTable } from './in-memory-projection-tables';
import { CartProjections } from './projections';
import { readArchiveLines } from './replay-lines';

/**
 * History written before a payload changed, read everywhere history is read: loading a cart for a command, the
 * projections (live or replayed), and the archive lines a replay parses.
 */
const CART = 'old-cart';
const at = '2025-06-01T00:00:00.000Z';
const stored = (version: number, type: string, schemaVersion: number, data: Record<string, unknown>): EventEnvelope => ({
  eventId: `old-${version}`,
  aggregateType: 'Cart',
  aggregateId: CART,
  version,
  type,
  schemaVersion,
  occurredAt: at,
  data,
});

/** A v1 ItemAdded (before names), then events as the seed import writes them (v2 with a name). */
const seedItem = {
  Uuid: CART,
  Events: [
    { EventUuid: 'old-1', AggregateUuid: CART, Name: 'CartOpened', Data: { shopping_cart_uuid: CART }, Version: 1 },
    { EventUuid: 'old-2', AggregateUuid: CART, Name: 'ItemAdded', Data: { shopping_cart_uuid: CART, item_name: 'Red Mug' }, Version: 2 },
  ],
};
const lifted = envelopesOfSeedItem(seedItem, 'aggregate-item', at);
if (!lifted.ok) throw new Error(lifted.reason);
const history: EventEnvelope[] = [...lifted.envelopes, stored(3, 'ItemAdded', 1, { sku: 'A-1', quantity: 2 }), stored(4, 'ItemRemoved', 1, { sku: 'A-1', quantity: 1 })];

const expectedItems = [
  { sku: 'Red-Mug-6569337052d9', quantity: 1, name: 'Red Mug' },
  { sku: 'A-1', quantity: 1 },
];

describe('old history, read through the upcasters', () => {
  it('loads for a command, and new events are written at the current version', async () => {
    const store = new InMemoryEventStore();
    store.seed(history);
    expect(await loadCart(store, CART)).toEqual({ cartId: CART, version: 4, state: { status: 'OPEN', items: expectedItems } });
    const { events } = await executeCartCommand(store, CART, { type: 'AddItem', sku: 'A-1', quantity: 1 });
    expect(events.map((e) => [e.version, e.type, e.schemaVersion, e.data])).toEqual([[5, 'ItemAdded', CURRENT_SCHEMA_VERSION.ItemAdded, { sku: 'A-1', quantity: 1 }]]);
  });

  it('folds into the read models, from archive lines as a replay parses them', async () => {
    const { events, badLines } = readArchiveLines('archive/object', history.map((event) => JSON.stringify(event)).join('\n'));
    expect(badLines).toEqual([]);
    expect(events).toEqual(history);
    const store = new InMemoryEventStore();
    store.seed(history);
    const summary = new InMemoryCartSummaryTable();
    const popularity = new InMemoryItemPopularityTable();
    await new CartProjections([summary, popularity], store).apply(events);
    expect(summary.summaries().get(CART)).toEqual({ cartId: CART, status: 'OPEN', items: expectedItems, totalQuantity: 2, version: 4 });
    expect([...popularity.rows.keys()].sort()).toEqual(['A-1', 'Red-Mug-6569337052d9']);
  });

  it('refuses a payload its version never had, wherever it is read', async () => {
    const bad = stored(3, 'ItemAdded', 1, { sku: 'A-1', quantity: 2, name: 'named in v1' });
    const store = new InMemoryEventStore();
    store.seed([...lifted.envelopes, bad]);
    await expect(loadCart(store, CART)).rejects.toThrow(/ItemAdded \(version 1\) data rejected/);
    await expect(new CartProjections([new InMemoryCartSummaryTable()], store).apply([...lifted.envelopes, bad])).rejects.toThrow(/version 1\) data rejected/);
    const { badLines } = readArchiveLines('archive/object', JSON.stringify(bad));
    expect(badLines).toEqual([expect.objectContaining({ reason: 'invalid-data', line: 1, detail: expect.stringMatching(/ItemAdded \(version 1\) data rejected/) })]);
  });
});
