import fc from 'fast-check';
import { CartRuleViolation, decide, evolve, fold, upcastCartEvent, type CartCommand, type CartEvent } from '../domain/cart';
import type { EventEnvelope } from '../domain/events';
import {
  ConcurrencyRetriesExhausted,
  executeCartCommand,
  ExpectedVersionMismatch,
  loadCart,
  RecentCarts,
  stampEvents,
  type CartCommandOptions,
} from './cart-commands';
import { VersionConflict } from './event-store';
import { InMemoryEventStore } from './in-memory-event-store';

const CART = '6f1c1e3a-2f44-4a39-9a67-0c9a4b1f2d11';
const AT = new Date('2026-01-02T03:04:05.000Z');

let ids = 0;
const deterministic: CartCommandOptions = {
  clock: { now: () => AT },
  newEventId: () => `event-${++ids}`,
  sleep: async () => undefined,
};

/** given a cart's history, when a command runs, then what the store holds (or the refusal). */
async function given(...commands: CartCommand[]) {
  const store = new InMemoryEventStore();
  for (const command of commands) await executeCartCommand(store, CART, command, deterministic);
  return {
    store,
    when: (command: CartCommand, options: CartCommandOptions = {}) => executeCartCommand(store, CART, command, { ...deterministic, ...options }),
  };
}

const open: CartCommand = { type: 'OpenCart' };
const add = (sku: string, quantity = 1): CartCommand => ({ type: 'AddItem', sku, quantity });

/** Another writer that slips one ItemAdded in before each of the next `times` appends. */
function interleaveRival(store: InMemoryEventStore, times: number): void {
  let left = times;
  store.beforeAppend = async (aggregateId) => {
    if (left <= 0) return;
    left--;
    const { version } = await store.readStream(aggregateId);
    store.seed(stampEvents(aggregateId, version, [{ type: 'ItemAdded', data: { sku: 'RIVAL', quantity: 1 } }], AT, () => `rival-${left}`));
  };
}

describe('executeCartCommand', () => {
  it('given nothing, when OpenCart, then CartOpened is stored as version 1 with a full envelope', async () => {
    const { store, when } = await given();
    const result = await when(open);
    expect(result.version).toBe(1);
    const { events } = await store.readStream(CART);
    expect(events).toEqual<EventEnvelope[]>([
      {
        eventId: expect.any(String),
        aggregateType: 'Cart',
        aggregateId: CART,
        version: 1,
        type: 'CartOpened',
        schemaVersion: 1,
        occurredAt: '2026-01-02T03:04:05.000Z',
        data: {},
      },
    ]);
  });

  it('given an open cart, when AddItem, then ItemAdded follows at the next version', async () => {
    const { store, when } = await given(open, add('A', 2));
    expect((await when(add('B', 3))).version).toBe(3);
    const cart = await loadCart(store, CART);
    expect(cart).toEqual({ cartId: CART, version: 3, state: { status: 'OPEN', items: [{ sku: 'A', quantity: 2 }, { sku: 'B', quantity: 3 }] } });
  });

  it('given an open cart, when another writer appends first, then the command is retried on fresh state and succeeds', async () => {
    const { store, when } = await given(open);
    interleaveRival(store, 2);
    const result = await when(add('MINE'));
    expect(result.version).toBe(4);
    expect(store.appends.filter((a) => a.aggregateId === CART).map((a) => a.outcome)).toEqual(['appended', 'conflict', 'conflict', 'appended']);
    const { state } = await loadCart(store, CART);
    expect(state).toEqual({ status: 'OPEN', items: [{ sku: 'RIVAL', quantity: 2 }, { sku: 'MINE', quantity: 1 }] });
  });

  it('given a retried RemoveItem, when the rival removed the line meanwhile, then the rule is checked again on fresh state', async () => {
    const { store, when } = await given(open, add('A', 1));
    store.beforeAppend = async (aggregateId) => {
      store.beforeAppend = undefined;
      const { version } = await store.readStream(aggregateId);
      store.seed(stampEvents(aggregateId, version, [{ type: 'ItemRemoved', data: { sku: 'A', quantity: 1 } }], AT, () => 'rival'));
    };
    await expect(when({ type: 'RemoveItem', sku: 'A' })).rejects.toMatchObject({ rule: 'ITEM_NOT_IN_CART' });
    expect((await store.readStream(CART)).version).toBe(3);
  });

  it('given a cart that keeps moving, when the retries run out, then ConcurrencyRetriesExhausted and nothing of ours is stored', async () => {
    const { store, when } = await given(open);
    interleaveRival(store, 100);
    const error = await when(add('MINE'), { maxAttempts: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConcurrencyRetriesExhausted);
    expect((error as ConcurrencyRetriesExhausted).attempts).toBe(5);
    const { events } = await store.readStream(CART);
    expect(events.some((e) => e.data.sku === 'MINE')).toBe(false);
  });

  it('backs off with jitter between attempts, bounded by 250 ms', async () => {
    const { store, when } = await given(open);
    interleaveRival(store, 20);
    const waits: number[] = [];
    await when(add('MINE'), { maxAttempts: 30, sleep: async (ms) => void waits.push(ms) });
    expect(waits).toHaveLength(20);
    expect(waits.every((ms) => ms >= 0 && ms <= 250)).toBe(true);
  });

  it('given If-Match at the current version, when the command runs, then it is appended', async () => {
    const { when } = await given(open, add('A'));
    expect((await when(add('B'), { expectedVersion: 2 })).version).toBe(3);
  });

  it('given If-Match at an old version, when the command runs, then ExpectedVersionMismatch and nothing is appended', async () => {
    const { store, when } = await given(open, add('A'));
    const error = await when(add('B'), { expectedVersion: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ExpectedVersionMismatch);
    expect(error).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect((await store.readStream(CART)).version).toBe(2);
  });

  it('given If-Match, when another writer wins the race, then it is refused instead of retried', async () => {
    const { store, when } = await given(open);
    interleaveRival(store, 1);
    await expect(when(add('B'), { expectedVersion: 1 })).rejects.toBeInstanceOf(ExpectedVersionMismatch);
    expect(store.appends.filter((a) => a.outcome === 'conflict')).toHaveLength(1);
    expect((await store.readStream(CART)).events.map((e) => e.data.sku)).toEqual([undefined, 'RIVAL']);
  });

  it('given no cart, when a command comes with If-Match, then the cart is reported missing, not a version mismatch', async () => {
    const { when } = await given();
    await expect(when(add('A'), { expectedVersion: 3 })).rejects.toMatchObject({ rule: 'CART_NOT_FOUND' });
  });

  it('given an existing cart id, when OpenCart runs again, then VersionConflict without retries', async () => {
    const { store, when } = await given(open);
    await expect(when(open)).rejects.toBeInstanceOf(VersionConflict);
    expect(store.appends.filter((a) => a.outcome === 'conflict')).toHaveLength(1);
  });

  it('given a closed cart, when anything changes it, then the rule refuses it and nothing is appended', async () => {
    const { store, when } = await given(open, add('A'), { type: 'CloseCart' });
    await expect(when(add('B'))).rejects.toBeInstanceOf(CartRuleViolation);
    await expect(when({ type: 'CloseCart' })).rejects.toMatchObject({ rule: 'CART_CLOSED' });
    expect(store.appends.filter((a) => a.outcome === 'appended')).toHaveLength(3);
  });
});

describe('executeCartCommand properties', () => {
  const sku = fc.constantFrom('A', 'B', 'C');
  const command: fc.Arbitrary<CartCommand> = fc.oneof(
    fc.record({ type: fc.constant('AddItem' as const), sku, quantity: fc.integer({ min: 1, max: 1000 }) }),
    fc.record({ type: fc.constant('RemoveItem' as const), sku, quantity: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined }) }).map(
      ({ quantity, ...rest }): CartCommand => (quantity === undefined ? rest : { ...rest, quantity }),
    ),
    fc.constant<CartCommand>({ type: 'CloseCart' }),
  );

  it('whatever commands run, concurrently or not, versions stay contiguous from 1 and each event id is unique', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 25 }), fc.integer({ min: 1, max: 5 }), async (commands, parallel) => {
        const store = new InMemoryEventStore();
        await executeCartCommand(store, CART, { type: 'OpenCart' }, deterministic);
        for (let i = 0; i < commands.length; i += parallel) {
          await Promise.allSettled(commands.slice(i, i + parallel).map((c) => executeCartCommand(store, CART, c, deterministic)));
        }
        const { events, version } = await store.readStream(CART);
        expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
        expect(version).toBe(events.length);
        expect(new Set(events.map((e) => e.eventId)).size).toBe(events.length);
        const { state } = await loadCart(store, CART);
        if (state.status !== 'NONE') expect(state.items.every((line) => line.quantity > 0)).toBe(true);
      }),
      { numRuns: 60 },
    );
  }, 30_000);
});

/**
 * A write that times out on the caller's side but is applied by the store: what a frozen DynamoDB does with the
 * requests queued on it. The next append of the cart (`lostAnswers` times) is stored, then reported as failed: as
 * a timeout, or as the conflict that the SDK's own retry of an applied conditional Put gets.
 */
function loseAnswers(store: InMemoryEventStore, lostAnswers: number, failure: () => Error) {
  let left = lostAnswers;
  const append = store.appendToStream.bind(store);
  store.appendToStream = async (aggregateId, expectedVersion, events) => {
    const result = await append(aggregateId, expectedVersion, events);
    if (left-- > 0) throw failure();
    return result;
  };
}

const timeout = () => Object.assign(new Error('request timed out'), { name: 'TimeoutError' });

describe('executeCartCommand when a write was applied but its answer lost', () => {
  it('a retried command with the same commandId is not applied twice: the first result is returned', async () => {
    const { store, when } = await given(open);
    loseAnswers(store, 1, timeout);
    await expect(when(add('A'), { commandId: 'key-1' })).rejects.toThrow('request timed out');
    const retried = await when(add('A'), { commandId: 'key-1' });
    const { events } = await store.readStream(CART);
    expect(events.map((e) => e.type)).toEqual(['CartOpened', 'ItemAdded']);
    expect(retried.version).toBe(2);
    // A later command with another id is a new command.
    expect((await when(add('A'), { commandId: 'key-2' })).version).toBe(3);
  });

  it('so is an OpenCart: its retry finds the cart it opened instead of refusing it as existing', async () => {
    const store = new InMemoryEventStore();
    loseAnswers(store, 1, timeout);
    await expect(executeCartCommand(store, CART, open, { ...deterministic, commandId: 'open-1' })).rejects.toThrow('request timed out');
    await expect(executeCartCommand(store, CART, open, { ...deterministic, commandId: 'open-1' })).resolves.toMatchObject({ version: 1 });
    await expect(executeCartCommand(store, CART, open, { ...deterministic, commandId: 'open-2' })).rejects.toBeInstanceOf(VersionConflict);
  });

  it('an applied write reported as a conflict (the SDK retried it) is this command\'s own, with or without a commandId', async () => {
    const { store, when } = await given(open, add('A'));
    loseAnswers(store, 1, () => new VersionConflict(CART, 2));
    await expect(when(add('B'))).resolves.toMatchObject({ version: 3 });
    loseAnswers(store, 1, () => new VersionConflict(CART, 3));
    await expect(when(add('C'), { expectedVersion: 3 })).resolves.toMatchObject({ version: 4 });
    const { state, version } = await loadCart(store, CART);
    expect(version).toBe(4);
    expect(state.status === 'NONE' ? [] : state.items.map((line) => line.sku)).toEqual(['A', 'B', 'C']);
  });
});

/** Counts the reads a command makes: what remembering a cart saves. */
function countReads(store: InMemoryEventStore): { reads: number } {
  const counter = { reads: 0 };
  const read = store.readStream.bind(store);
  store.readStream = async (aggregateId, afterVersion) => {
    counter.reads++;
    return read(aggregateId, afterVersion);
  };
  return counter;
}

/** Another process's command: it goes through the store, not through this process's RecentCarts. */
async function elsewhere(store: InMemoryEventStore, command: CartCommand) {
  return executeCartCommand(store, CART, command, deterministic);
}

describe('executeCartCommand with RecentCarts (the carts this process wrote last)', () => {
  const itemsOf = async (store: InMemoryEventStore) => {
    const { state } = await loadCart(store, CART);
    return state.status === 'NONE' ? [] : state.items;
  };

  it('a command on a cart this process wrote last does not read it: one append, no read', async () => {
    const store = new InMemoryEventStore();
    const recentCarts = new RecentCarts();
    const counter = countReads(store);
    await executeCartCommand(store, CART, open, { ...deterministic, recentCarts });
    await executeCartCommand(store, CART, add('A'), { ...deterministic, recentCarts });
    await executeCartCommand(store, CART, add('A', 2), { ...deterministic, recentCarts });
    expect(counter.reads).toBe(0);
    expect(store.appends.map((a) => a.outcome)).toEqual(['appended', 'appended', 'appended']);
    expect(await itemsOf(store)).toEqual([{ sku: 'A', quantity: 3 }]);
    expect(recentCarts.get(CART)).toMatchObject({ version: 3 });
  });

  it('a cart that moved elsewhere since: the append is refused, the command catches up and is applied on the stored state', async () => {
    const store = new InMemoryEventStore();
    const recentCarts = new RecentCarts();
    await executeCartCommand(store, CART, open, { ...deterministic, recentCarts });
    await elsewhere(store, add('B'));
    const sleep = jest.fn(async () => undefined);
    const result = await executeCartCommand(store, CART, add('A'), { ...deterministic, sleep, recentCarts });
    expect(result.version).toBe(3);
    // Not contention: no backoff before catching up.
    expect(sleep).not.toHaveBeenCalled();
    expect(store.appends.at(-2)).toMatchObject({ expectedVersion: 1, outcome: 'conflict' });
    expect(await itemsOf(store)).toEqual([{ sku: 'B', quantity: 1 }, { sku: 'A', quantity: 1 }]);
  });

  it('a rule that the remembered cart breaks is checked again on the stored cart before it is refused', async () => {
    const store = new InMemoryEventStore();
    const recentCarts = new RecentCarts();
    await executeCartCommand(store, CART, open, { ...deterministic, recentCarts });
    await elsewhere(store, add('B'));
    // Remembered: no B in the cart. Stored: B is there, so removing it is allowed.
    await expect(executeCartCommand(store, CART, { type: 'RemoveItem', sku: 'B' }, { ...deterministic, recentCarts })).resolves.toMatchObject({ version: 3 });
    expect(await itemsOf(store)).toEqual([]);
    // And a refusal that holds on the stored cart is still a refusal, with nothing appended.
    await elsewhere(store, { type: 'CloseCart' });
    const { version } = await loadCart(store, CART);
    await expect(executeCartCommand(store, CART, add('C'), { ...deterministic, recentCarts })).rejects.toMatchObject({ rule: 'CART_CLOSED' });
    expect((await loadCart(store, CART)).version).toBe(version);
  });

  it('If-Match is judged on the stored version, whether the remembered one is behind or at the expected one', async () => {
    const store = new InMemoryEventStore();
    const recentCarts = new RecentCarts();
    await executeCartCommand(store, CART, open, { ...deterministic, recentCarts });
    await elsewhere(store, add('B'));
    // Remembered at 1, stored at 2: If-Match 2 is right.
    await expect(executeCartCommand(store, CART, add('A'), { ...deterministic, recentCarts, expectedVersion: 2 })).resolves.toMatchObject({ version: 3 });
    await elsewhere(store, add('B'));
    // Remembered at 3 = If-Match, stored at 4: refused, nothing appended.
    const appends = store.appends.filter((a) => a.outcome === 'appended').length;
    await expect(executeCartCommand(store, CART, add('A'), { ...deterministic, recentCarts, expectedVersion: 3 })).rejects.toMatchObject({
      name: 'ExpectedVersionMismatch',
      actualVersion: 4,
    });
    expect(store.appends.filter((a) => a.outcome === 'appended').length).toBe(appends);
  });

  it('a command with a commandId still reads the cart (its earlier attempt may be stored) and is not applied twice', async () => {
    const store = new InMemoryEventStore();
    const recentCarts = new RecentCarts();
    await executeCartCommand(store, CART, open, { ...deterministic, recentCarts });
    loseAnswers(store, 1, timeout);
    await expect(executeCartCommand(store, CART, add('A'), { ...deterministic, recentCarts, commandId: 'key-1' })).rejects.toThrow('request timed out');
    await expect(executeCartCommand(store, CART, add('A'), { ...deterministic, recentCarts, commandId: 'key-1' })).resolves.toMatchObject({ version: 2 });
    expect(await itemsOf(store)).toEqual([{ sku: 'A', quantity: 1 }]);
  });

  it('keeps at most `capacity` carts, the least recently used leave first, and never goes back to an older version', () => {
    const recentCarts = new RecentCarts(2);
    const cart = (cartId: string, version: number) => ({ cartId, version, state: { status: 'OPEN' as const, items: [] } });
    recentCarts.remember(cart('a', 1));
    recentCarts.remember(cart('b', 1));
    recentCarts.get('a');
    recentCarts.remember(cart('c', 1));
    expect([recentCarts.get('a')?.version, recentCarts.get('b'), recentCarts.get('c')?.version]).toEqual([1, undefined, 1]);
    recentCarts.remember(cart('a', 5));
    recentCarts.remember(cart('a', 4));
    expect(recentCarts.get('a')?.version).toBe(5);
    expect(recentCarts.size).toBe(2);
  });

  it('whatever runs here and elsewhere, concurrently or not, the store ends as if every command had read the cart', async () => {
    const sku = fc.constantFrom('A', 'B');
    const step = fc.record({
      command: fc.oneof(
        fc.record({ type: fc.constant('AddItem' as const), sku, quantity: fc.integer({ min: 1, max: 3 }) }),
        fc.record({ type: fc.constant('RemoveItem' as const), sku }),
      ) as fc.Arbitrary<CartCommand>,
      where: fc.constantFrom('here', 'elsewhere'),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(step, { minLength: 1, maxLength: 3 }), { maxLength: 12 }), async (rounds) => {
        const store = new InMemoryEventStore();
        const recentCarts = new RecentCarts();
        await executeCartCommand(store, CART, open, { ...deterministic, recentCarts });
        for (const round of rounds) {
          const outcomes = await Promise.allSettled(
            round.map(({ command, where }) => executeCartCommand(store, CART, command, where === 'here' ? { ...deterministic, recentCarts } : deterministic)),
          );
          for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(CartRuleViolation);
        }
        const { events } = await store.readStream(CART);
        expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
        // Every stored event was a valid decision on the state before it: replaying decide over the stream agrees
        // (a command decided on a stale state would have removed a quantity the cart no longer held, or added to
        // a closed cart).
        let before = fold([]);
        for (const stored of events) {
          const event = upcastCartEvent(stored.type, stored.schemaVersion, stored.data);
          expect(decide(commandBehind(event), before)).toEqual([event]);
          before = evolve(before, event);
        }
        const remembered = recentCarts.get(CART)!;
        const stored = await loadCart(store, CART);
        expect(remembered.version).toBeLessThanOrEqual(stored.version);
      }),
      { numRuns: 60 },
    );
  }, 30_000);
});

/** The command of this test's alphabet that decides `event` (RemoveItem is issued without a quantity: the whole line). */
function commandBehind(event: CartEvent): CartCommand {
  switch (event.type) {
    case 'CartOpened':
      return { type: 'OpenCart' };
    case 'ItemAdded':
      return { type: 'AddItem', sku: event.data.sku, quantity: event.data.quantity };
    case 'ItemRemoved':
      return { type: 'RemoveItem', sku: event.data.sku };
    case 'CartClosed':
      return { type: 'CloseCart' };
  }
}
