import fc from 'fast-check';
import type { EventEnvelope } from '../domain/events';
import { claimingConsumer, InMemoryPositionStore } from './claiming-consumer';
import { InMemoryEventStore } from './in-memory-event-store';
import { CartSequencer, MissingHistoryError } from './sequencer';

const envelope = (cartId: string, version: number): EventEnvelope => ({
  eventId: `${cartId}-${version}`,
  aggregateType: 'Cart',
  aggregateId: cartId,
  version,
  type: 'ItemAdded',
  schemaVersion: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data: { sku: 'A', quantity: 1 },
});

async function storeWith(histories: Record<string, number>): Promise<{ store: InMemoryEventStore; events: EventEnvelope[] }> {
  const store = new InMemoryEventStore();
  const events: EventEnvelope[] = [];
  for (const [cartId, length] of Object.entries(histories)) {
    const history = Array.from({ length }, (_, i) => envelope(cartId, i + 1));
    await store.appendToStream(cartId, 0, history);
    events.push(...history);
  }
  return { store, events };
}

/** A consumer that records what it was handed, per cart, behind a shared position store. */
function recorder(positions = new InMemoryPositionStore()) {
  const handed = new Map<string, number[]>();
  const consumer = claimingConsumer('recorder', positions, (cartId, events) => {
    handed.set(cartId, [...(handed.get(cartId) ?? []), ...events.map((e) => e.version)]);
  });
  return { consumer, handed, positions };
}

describe('CartSequencer', () => {
  it('hands each cart its events exactly once and in version order, whatever the delivery (duplicates, reordering, redelivery, two racing writers)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('a', 'b', 'c', 'hot'), fc.integer({ min: 1, max: 12 }), { minKeys: 1 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 1, max: 10 }),
        async (histories, noise, batchSize) => {
          const { store, events } = await storeWith(histories);
          // A delivery as Kinesis may make it: every event at least once, some again, in a scrambled order.
          const delivered = [...events, ...noise.map((n) => events[n % events.length]!)];
          const order = delivered.map((event, i) => ({ event, key: noise[i % noise.length]! * 7919 + i * 104729 })).sort((x, y) => (x.key % 1000) - (y.key % 1000));
          const shuffled = order.map((o) => o.event);
          const { consumer, handed } = recorder();
          // Two sequencers over one position store: a redelivery racing its first attempt.
          const first = new CartSequencer(consumer, store);
          const second = new CartSequencer(consumer, store);
          for (let i = 0; i < shuffled.length; i += batchSize) {
            const batch = shuffled.slice(i, i + batchSize);
            await Promise.all([...batch.map((e) => first.offer(e)), ...batch.filter((_, j) => j % 2 === 0).map((e) => second.offer(e))]);
          }
          for (const [cartId, length] of Object.entries(histories)) {
            expect(handed.get(cartId)).toEqual(Array.from({ length }, (_, i) => i + 1));
          }
        },
      ),
      { numRuns: 60 },
    );
  }, 30_000);

  it('catches a gap up from the event store, and says which events were duplicates', async () => {
    const { store } = await storeWith({ cart: 5 });
    const { consumer, handed } = recorder();
    const sequencer = new CartSequencer(consumer, store);
    expect(await sequencer.offer(envelope('cart', 4))).toBe('handled'); // 1..3 read from the store first
    expect(await sequencer.offer(envelope('cart', 2))).toBe('duplicate');
    const outcomes = await Promise.all([sequencer.offer(envelope('cart', 5)), sequencer.offer(envelope('cart', 5))]);
    expect(outcomes.sort()).toEqual(['duplicate', 'handled']);
    expect(handed.get('cart')).toEqual([1, 2, 3, 4, 5]);
  });

  it('holds an event whose predecessors the store does not have yet (MissingHistoryError: retried later), then delivers it', async () => {
    const store = new InMemoryEventStore();
    await store.appendToStream('cart', 0, [envelope('cart', 1)]);
    const { consumer, handed } = recorder();
    const sequencer = new CartSequencer(consumer, store);
    await expect(sequencer.offer(envelope('cart', 3))).rejects.toBeInstanceOf(MissingHistoryError);
    expect(handed.get('cart')).toBeUndefined();
    await store.appendToStream('cart', 1, [envelope('cart', 2), envelope('cart', 3)]);
    expect(await sequencer.offer(envelope('cart', 3))).toBe('handled');
    expect(handed.get('cart')).toEqual([1, 2, 3]);
  });

  it('a remembered position is only a guess: another writer moving the cart makes it re-read, never skip or repeat', async () => {
    const { store } = await storeWith({ cart: 4 });
    const shared = new InMemoryPositionStore();
    const mine = recorder(shared);
    const other = recorder(shared);
    const sequencer = new CartSequencer(mine.consumer, store);
    await sequencer.offer(envelope('cart', 1));
    await new CartSequencer(other.consumer, store).offer(envelope('cart', 3)); // moves the position to 3
    expect(await sequencer.offer(envelope('cart', 2))).toBe('duplicate');
    expect(await sequencer.offer(envelope('cart', 4))).toBe('handled');
    expect([...(mine.handed.get('cart') ?? []), ...(other.handed.get('cart') ?? [])].sort()).toEqual([1, 2, 3, 4]);
  });
});
