import fc from 'fast-check';
import type { EventEnvelope } from '../domain/events';
import { importSeedTable, type EventImport, type EventImportTarget, type ImportCheckpoint, type SeedTableSource, type SegmentPosition } from './import-seed';

const AT = '2026-01-01T00:00:00.000Z';

/** A seed table held in memory, split into Scan segments by a hash of the key, `pageSize` items a page. */
class InMemorySeedTable implements SeedTableSource {
  readonly scans: { segment: number; cursor: unknown }[] = [];
  constructor(
    private readonly items: readonly Record<string, unknown>[],
    private readonly pageSize = 2,
  ) {}

  async scan(segment: number, totalSegments: number, cursor: Record<string, unknown> | undefined) {
    this.scans.push({ segment, cursor });
    const mine = this.items.filter((_, index) => index % totalSegments === segment);
    const from = Number(cursor?.at ?? 0);
    const items = mine.slice(from, from + this.pageSize);
    return { items, ...(from + this.pageSize < mine.length ? { cursor: { at: from + this.pageSize } } : {}) };
  }
}

/** The event store's conditional write, in memory. */
class InMemoryImportTarget implements EventImportTarget {
  readonly events = new Map<string, EventEnvelope>();
  failOn?: (event: EventEnvelope) => boolean;

  async importEvent(event: EventEnvelope): Promise<EventImport> {
    if (this.failOn?.(event)) throw new Error('the table is unreachable');
    const existing = this.events.get(`${event.aggregateId}/${event.version}`);
    if (!existing) {
      this.events.set(`${event.aggregateId}/${event.version}`, event);
      return { outcome: 'imported' };
    }
    return existing.eventId === event.eventId ? { outcome: 'already-imported' } : { outcome: 'conflict', existingEventId: existing.eventId };
  }
}

function seedCart(cartId: string, names: readonly string[], closed = false): Record<string, unknown> {
  const events: Record<string, unknown>[] = [{ EventUuid: `${cartId}-1`, AggregateUuid: cartId, Name: 'CartOpened', Data: { shopping_cart_uuid: cartId }, Version: 1 }];
  for (const name of names) {
    events.push({ EventUuid: `${cartId}-${events.length + 1}`, AggregateUuid: cartId, Name: 'ItemAdded', Data: { shopping_cart_uuid: cartId, item_name: name }, Version: events.length + 1 });
  }
  if (closed) events.push({ EventUuid: `${cartId}-${events.length + 1}`, AggregateUuid: cartId, Name: 'CartClosed', Data: { shopping_cart_uuid: cartId }, Version: events.length + 1 });
  return { Uuid: cartId, Events: events };
}

/** The same carts in the seed's later layout: one item per event. */
const perEvent = (carts: readonly Record<string, unknown>[]) => carts.flatMap((cart) => cart.Events as Record<string, unknown>[]);

describe('importing a seed table', () => {
  it('copies every event once, however the table is segmented; a second run imports nothing and counts it all as there', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), { maxLength: 5 }), fc.boolean()), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom('aggregate-item' as const, 'event-per-item' as const),
        async (carts, segments, layout) => {
          const items = carts.map(([names, closed], index) => seedCart(`cart-${index}`, names, closed));
          const table = new InMemorySeedTable(layout === 'aggregate-item' ? items : perEvent(items));
          const target = new InMemoryImportTarget();
          const total = items.reduce((n, item) => n + (item.Events as unknown[]).length, 0);

          const first = await importSeedTable(table, target, { layout, segments, occurredAt: AT });
          expect(first).toMatchObject({ eventsImported: total, eventsAlreadyImported: 0, itemsSkipped: 0, cartsImported: items.length, segmentsDone: segments });
          expect(target.events.size).toBe(total);
          const before = new Map(target.events);

          const second = await importSeedTable(table, target, { layout, segments, occurredAt: '2030-01-01T00:00:00.000Z' });
          expect(second).toMatchObject({ eventsImported: 0, eventsAlreadyImported: total, itemsSkipped: 0, cartsImported: 0 });
          expect(target.events).toEqual(before);
        },
      ),
      { numRuns: 100 },
    );
  }, 60_000);

  it('reports and skips a bad item with its key and why, and imports every other', async () => {
    const good = seedCart('good', ['Red Mug']);
    const wrongCart = seedCart('wrong', ['pear']);
    (wrongCart.Events as Record<string, unknown>[])[1]!.Data = { shopping_cart_uuid: 'someone-else', item_name: 'pear' };
    const hole = seedCart('hole', ['a', 'b']);
    (hole.Events as unknown[]).splice(1, 1);
    const items = [good, { Uuid: 'not-a-list', Events: 'x' }, wrongCart, { Events: [] }, hole, { Uuid: 'removed', Events: [{ EventUuid: 'r', Name: 'ItemRemoved', Data: {}, Version: 1 }] }];
    const target = new InMemoryImportTarget();
    const reported: string[] = [];
    const summary = await importSeedTable(new InMemorySeedTable(items), target, { layout: 'aggregate-item', segments: 2, occurredAt: AT, onSkipped: (item) => reported.push(item.key) });
    expect(summary).toMatchObject({ itemsScanned: 6, eventsImported: 2, itemsSkipped: 5, cartsImported: 1 });
    expect([...target.events.keys()]).toEqual(['good/1', 'good/2']);
    expect(new Map(summary.skipped.map((s) => [s.key, s.reason]))).toEqual(
      new Map([
        ['{"Uuid":"not-a-list"}', 'malformed-record: cart not-a-list: Events is not a list'],
        ['{"Uuid":"wrong"}', expect.stringMatching(/^rejected-event: cart wrong: event wrong-2 \(version 2\): shopping_cart_uuid "someone-else" is not the cart/)],
        ['{}', 'malformed-record: the item has no string Uuid'],
        ['{"Uuid":"hole"}', expect.stringContaining('versions 1, 3; expected 1..2')],
        ['{"Uuid":"removed"}', expect.stringContaining('the seed has no event type "ItemRemoved"')],
      ]),
    );
    expect(reported.sort()).toEqual(summary.skipped.map((s) => s.key).sort());
  });

  it('skips a cart that already holds other events here, writing none of the seed\'s after the clash', async () => {
    const target = new InMemoryImportTarget();
    await target.importEvent({ eventId: 'ours-1', aggregateType: 'Cart', aggregateId: 'taken', version: 1, type: 'CartOpened', schemaVersion: 1, occurredAt: AT, data: {} });
    const summary = await importSeedTable(new InMemorySeedTable([seedCart('taken', ['x'])]), target, { layout: 'aggregate-item', segments: 1, occurredAt: AT });
    expect(summary.skipped).toEqual([{ key: '{"Uuid":"taken"}', reason: 'conflict: cart taken already holds event ours-1 at version 1 (the seed\'s is taken-1)' }]);
    expect([...target.events.keys()]).toEqual(['taken/1']);
  });

  it('names the skus that several item names share', async () => {
    const summary = await importSeedTable(new InMemorySeedTable([seedCart('a', ['apple', 'Red Mug']), seedCart('b', ['Red Mug'])]), new InMemoryImportTarget(), {
      layout: 'aggregate-item',
      segments: 1,
      occurredAt: AT,
    });
    expect(summary.skuCollisions).toEqual([]);
    // A seed name that is literally another name's derived sku is the one collision the rule allows.
    const clash = await importSeedTable(new InMemorySeedTable([seedCart('c', ['Red Mug', 'Red-Mug-6569337052d9'])]), new InMemoryImportTarget(), {
      layout: 'aggregate-item',
      segments: 1,
      occurredAt: AT,
    });
    expect(clash.skuCollisions).toEqual([{ sku: 'Red-Mug-6569337052d9', names: ['Red Mug', 'Red-Mug-6569337052d9'] }]);
  });

  it('stops when the store fails, and a second run resumes where the first stopped', async () => {
    const items = [seedCart('a', ['x', 'y']), seedCart('b', ['z'])];
    const target = new InMemoryImportTarget();
    target.failOn = (event) => event.eventId === 'a-3';
    await expect(importSeedTable(new InMemorySeedTable(items), target, { layout: 'aggregate-item', segments: 1, occurredAt: AT, concurrency: 1 })).rejects.toThrow('unreachable');
    target.failOn = undefined;
    const resumed = await importSeedTable(new InMemorySeedTable(items), target, { layout: 'aggregate-item', segments: 1, occurredAt: AT });
    expect(resumed).toMatchObject({ eventsImported: 1 + 2, eventsAlreadyImported: 2, itemsSkipped: 0 });
    expect(target.events.size).toBe(5);
  });

  it('with a checkpoint, a resumed run skips the pages and segments an earlier run finished', async () => {
    const items = Array.from({ length: 9 }, (_, i) => seedCart(`c${i}`, ['x']));
    const saved = new Map<number, SegmentPosition>();
    const checkpoint: ImportCheckpoint = { position: async (segment) => saved.get(segment) ?? {}, save: async (segment, position) => void saved.set(segment, position) };
    const target = new InMemoryImportTarget();
    // Segment 0 holds c0, c3, c6 (pages [c0, c3], [c6]); segment 1 holds c1, c4, c7; c7 fails.
    target.failOn = (event) => event.aggregateId === 'c7';
    const first = new InMemorySeedTable(items);
    await expect(importSeedTable(first, target, { layout: 'aggregate-item', segments: 3, occurredAt: AT, checkpoint, concurrency: 1 })).rejects.toThrow('unreachable');
    target.failOn = undefined;

    const afterFirst = new Map(saved);
    expect(afterFirst.get(1)).toEqual({ cursor: { at: 2 } });

    const second = new InMemorySeedTable(items);
    const resumed = await importSeedTable(second, target, { layout: 'aggregate-item', segments: 3, occurredAt: AT, checkpoint });
    expect([...saved.values()]).toEqual([{ done: true }, { done: true }, { done: true }]);
    expect(target.events.size).toBe(18);
    // Only what was not finished is read again: each segment from where its checkpoint stood, finished ones not at all.
    for (const segment of [0, 1, 2]) {
      const scans = second.scans.filter((scan) => scan.segment === segment);
      if (afterFirst.get(segment)?.done) expect(scans).toEqual([]);
      else expect(scans[0]).toEqual({ segment, cursor: (afterFirst.get(segment) as { cursor?: unknown } | undefined)?.cursor });
    }
    expect(resumed.segmentsFinishedBefore).toBe([...afterFirst.values()].filter((p) => p.done).length);
    expect(resumed).toMatchObject({ segmentsDone: 3, eventsAlreadyImported: 0, itemsSkipped: 0 });
  });
});
