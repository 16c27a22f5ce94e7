import type { EventEnvelope } from '../domain/events';
import { claimingConsumer, InMemoryPositionStore, type PositionStore } from './claiming-consumer';
import { InMemoryEventStore } from './in-memory-event-store';
import { CartSequencer } from './sequencer';
import { itemAdded as envelope, storeWithHistories } from './event-histories.testing';

async function storeWith(cartId: string, length: number): Promise<{ store: InMemoryEventStore; history: EventEnvelope[] }> {
  const { store, events } = await storeWithHistories({ [cartId]: length });
  return { store, history: events };
}

/** Positions whose next `advance` misbehaves once, as an AWS call can. */
class FaultyPositionStore implements PositionStore {
  readonly inner = new InMemoryPositionStore();
  fault: 'applied-then-error' | 'error-not-applied' | undefined;

  read(cartIds: readonly string[]) {
    return this.inner.read(cartIds);
  }

  async advance(cartId: string, from: number, to: number): Promise<boolean> {
    const fault = this.fault;
    this.fault = undefined;
    if (fault === 'error-not-applied') throw new Error('InternalServerError (not applied)');
    const moved = await this.inner.advance(cartId, from, to);
    if (fault === 'applied-then-error') throw new Error('InternalServerError (applied, answer lost)');
    return moved;
  }
}

/** A consumer whose every performed event is recorded, over `positions`; `failNext` makes its next effect throw. */
function recording(positions: PositionStore) {
  const performed: string[] = [];
  const state = { failNext: false };
  const consumer = claimingConsumer('recorder', positions, (_cartId, events) => {
    if (state.failNext) {
      state.failNext = false;
      throw new Error('effect failed');
    }
    performed.push(...events.map((e) => e.eventId));
  });
  return { consumer, performed, state };
}

/** Offers every event as one batch; the batch's rejected records are offered again (the mapping's retry), up to `tries`. */
async function deliverUntilDone(sequencer: CartSequencer<{ version: number }>, events: readonly EventEnvelope[], tries = 5): Promise<void> {
  let pending = [...events];
  for (let i = 0; i < tries && pending.length > 0; i++) {
    const outcomes = await Promise.allSettled(pending.map((e) => sequencer.offer(e)));
    pending = pending.filter((_, j) => outcomes[j]!.status === 'rejected');
  }
  expect(pending).toEqual([]);
}

describe('claimingConsumer: at least once, whatever happens to the effect or the position write', () => {
  it('a position write applied and then answered with an error loses nothing (the effect was performed first)', async () => {
    const { store, history } = await storeWith('cart', 3);
    const positions = new FaultyPositionStore();
    positions.fault = 'applied-then-error';
    const { consumer, performed } = recording(positions);
    await deliverUntilDone(new CartSequencer(consumer, store), history);
    // A redelivery to a fresh process (another Lambda sandbox) too.
    await deliverUntilDone(new CartSequencer(consumer, store), history);
    expect(performed).toEqual(['cart-1', 'cart-2', 'cart-3']);
  });

  it('a failed effect is performed again by the redelivery, not skipped as claimed', async () => {
    const { store, history } = await storeWith('cart', 2);
    const { consumer, performed, state } = recording(new InMemoryPositionStore());
    state.failNext = true;
    const sequencer = new CartSequencer(consumer, store);
    await expect(sequencer.offer(history[0]!)).rejects.toThrow('effect failed');
    await deliverUntilDone(sequencer, history);
    expect(performed).toEqual(['cart-1', 'cart-2']);
  });

  it('a crash between the effect and the position write repeats the effect (at least once), with the same eventIds', async () => {
    const { store, history } = await storeWith('cart', 2);
    const positions = new FaultyPositionStore();
    positions.fault = 'error-not-applied';
    const { consumer, performed } = recording(positions);
    await deliverUntilDone(new CartSequencer(consumer, store), history);
    expect(performed).toEqual(['cart-1', 'cart-2', 'cart-1', 'cart-2']);
  });

  it('never performs a run from a remembered position: a redelivery of what another sandbox did is dropped', async () => {
    const { store, history } = await storeWith('cart', 2);
    const positions = new InMemoryPositionStore();
    const { consumer, performed } = recording(positions);
    const sandboxA = new CartSequencer(consumer, store);
    const sandboxB = new CartSequencer(consumer, store);
    expect(await sandboxA.offer(history[0]!)).toBe('handled'); // A remembers position 1
    expect(await sandboxB.offer(history[1]!)).toBe('handled'); // B moves it to 2
    expect(await sandboxA.offer(history[1]!)).toBe('duplicate'); // A's guess (1) would make v2 look next
    expect(performed).toEqual(['cart-1', 'cart-2']);
  });

  it('a failed run fails its batch only after the other runs settled (no write left running behind the report)', async () => {
    const store = new InMemoryEventStore();
    await store.appendToStream('a', 0, [envelope('a', 1)]);
    await store.appendToStream('b', 0, [envelope('b', 1)]);
    const positions = new InMemoryPositionStore();
    let releaseB: () => void = () => {};
    const consumer = claimingConsumer('slow', positions, async (cartId) => {
      if (cartId === 'a') throw new Error('effect failed');
      await new Promise<void>((resolve) => (releaseB = resolve));
    });
    const handling = consumer.handleRuns([
      { cartId: 'a', from: { version: 0 }, events: [envelope('a', 1)] },
      { cartId: 'b', from: { version: 0 }, events: [envelope('b', 1)] },
    ]);
    let settled = false;
    void handling.catch(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    releaseB();
    await expect(handling).rejects.toThrow('effect failed');
    expect(await positions.read(['a', 'b'])).toEqual(new Map([['b', 1]]));
  });
});
