import fc from 'fast-check';
import type { EventEnvelope } from '../domain/events';
import { claimingConsumer, InMemoryPositionStore, type PositionStore } from './claiming-consumer';
import { itemAdded as envelope, storeWithHistories as storeWith } from './event-histories.testing';
import { InMemoryEventStore } from './in-memory-event-store';
import { CartSequencer, MissingHistoryError, ProjectionContentionError, type CartPosition, type SequencedConsumer } from './sequencer';

/** A consumer that records what it was handed, per cart, behind a shared position store. */
function recorder(positions: PositionStore = new InMemoryPositionStore()) {
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

  it('a remembered position is only a guess: another writer moving the cart makes it re-read before a catch-up, never repeat', async () => {
    const { store } = await storeWith({ cart: 4 });
    const reads: number[] = [];
    const counted = { readStream: (cartId: string, after?: number) => (reads.push(after ?? 0), store.readStream(cartId, after)) };
    const shared = new InMemoryPositionStore();
    // A consumer that may start a run from a guess (like the projections): only skips and catch-ups need a read.
    const mine = recorder(shared);
    const other = recorder(shared);
    const sequencer = new CartSequencer({ ...mine.consumer, handlesOnlyFromReadPositions: false }, counted);
    await sequencer.offer(envelope('cart', 1)); // remembers position 1
    await new CartSequencer(other.consumer, store).offer(envelope('cart', 3)); // moves the position to 3 (2 caught up)
    // 4 is ahead of the remembered 1: the guard re-reads the position (3) instead of catching 2..3 up again.
    expect(await sequencer.offer(envelope('cart', 4))).toBe('handled');
    expect(reads).toEqual([]);
    expect(mine.handed.get('cart')).toEqual([1, 4]);
    expect(other.handed.get('cart')).toEqual([2, 3]);
  });

  it('a remembered position never decides a skip: after the positions were wiped, an event below it is handled', async () => {
    const { store } = await storeWith({ cart: 3 });
    let positions = new InMemoryPositionStore();
    const wipeable: PositionStore = { read: (ids) => positions.read(ids), advance: (id, from, to) => positions.advance(id, from, to) };
    const { consumer, handed } = recorder(wipeable);
    const sequencer = new CartSequencer({ ...consumer, handlesOnlyFromReadPositions: false }, store);
    await Promise.all([1, 2, 3].map((v) => sequencer.offer(envelope('cart', v)))); // remembers 3
    positions = new InMemoryPositionStore(); // a rebuild wiped the consumer's positions (without telling this sequencer)
    expect(await sequencer.offer(envelope('cart', 1))).toBe('handled');
    expect(handed.get('cart')).toEqual([1, 2, 3, 1]);
  });

  it('counts a run the consumer applied in part before a racing writer stopped it, and hands over only the rest', async () => {
    const { store, events } = await storeWith({ cart: 4 });
    let stored = 0;
    const handedRuns: number[][] = [];
    const partial: SequencedConsumer<CartPosition> = {
      name: 'partial',
      initialPosition: { version: 0 },
      readPositions: async () => new Map([['cart', { version: stored }]]),
      async handleRuns(runs) {
        return runs.map(({ events: run }) => {
          handedRuns.push(run.map((e) => e.version));
          // The first run: two events applied, then the writer found its row moved (a raced write).
          const applied = handedRuns.length === 1 ? 2 : run.length;
          stored = run[applied - 1]!.version;
          return { handled: applied };
        });
      },
      positionAfter: (_from, run) => ({ version: run.at(-1)!.version }),
    };
    const outcomes = await new CartSequencer(partial, store).deliver(new Map([['cart', events]]));
    expect(handedRuns).toEqual([[1, 2, 3, 4], [3, 4]]);
    expect(outcomes.get('cart')).toMatchObject({ events: 4, handled: 4, skipped: 0, caughtUp: 0 });
  });

  it('fails the cart with ProjectionContentionError after maxConflicts re-reads, not before, and never loops', async () => {
    const { store, events } = await storeWith({ cart: 2 });
    let attempts = 0;
    const alwaysRaced: SequencedConsumer<CartPosition> = {
      name: 'raced',
      initialPosition: { version: 0 },
      readPositions: async () => new Map(),
      async handleRuns(runs) {
        if (++attempts > 50) throw new Error('looping');
        return runs.map(() => ({ handled: 0 }));
      },
      positionAfter: (_from, run) => ({ version: run.at(-1)!.version }),
    };
    const outcomes = await new CartSequencer(alwaysRaced, store, { maxConflicts: 3 }).deliver(new Map([['cart', events]]));
    expect((outcomes.get('cart') as { error: unknown }).error).toBeInstanceOf(ProjectionContentionError);
    expect(attempts).toBe(4);
  });
});
