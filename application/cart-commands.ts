import { createHash, randomUUID } from 'node:crypto';
import { CART_AGGREGATE_TYPE, type EventEnvelope } from '../domain/events';
import {
  CartRuleViolation,
  CURRENT_SCHEMA_VERSION,
  decide,
  fold,
  initialCartState,
  upcastCartEvent,
  type CartCommand,
  type CartEvent,
  type CartState,
} from '../domain/cart';
import { VersionConflict, type EventStore } from './event-store';

export interface Clock {
  now(): Date;
}

export interface CartCommandOptions {
  /** The version the caller saw (If-Match). When given, a moved cart is refused instead of retried. */
  readonly expectedVersion?: number;
  readonly maxAttempts?: number;
  readonly clock?: Clock;
  readonly newEventId?: () => string;
  /**
   * A stable id of the command (the API derives it from the request's Idempotency-Key): its events get ids derived
   * from it (commandEventId), the same on every attempt and every retry, and a command whose events are already in
   * the cart's stream is not applied again: its earlier result is returned. That covers a write that timed out
   * but was applied, whether the SDK, this function or the client retries it. Without one, the ids this call
   * stamped are still recognised, which covers the retries within the call.
   */
  readonly commandId?: string;
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * The carts this process wrote last (RecentCarts). A command on a cart found there starts from it instead of
   * reading the cart: its append is conditional on the next version as always, so a cart that moved since (another
   * process wrote it) fails the append and is caught up, exactly like a lost race. Not used with a commandId: that
   * check needs the cart's stored events.
   */
  readonly recentCarts?: RecentCarts;
}

export interface LoadedCart {
  readonly cartId: string;
  readonly state: CartState;
  readonly version: number;
}

export class ExpectedVersionMismatch extends Error {
  override readonly name = 'ExpectedVersionMismatch';
  constructor(
    readonly expectedVersion: number,
    readonly actualVersion?: number,
  ) {
    super(
      actualVersion === undefined
        ? `expected version ${expectedVersion} but the cart has moved on`
        : `expected version ${expectedVersion} but the cart is at version ${actualVersion}`,
    );
  }
}

export class ConcurrencyRetriesExhausted extends Error {
  override readonly name = 'ConcurrencyRetriesExhausted';
  constructor(readonly attempts: number) {
    super(`the cart kept changing under this command; gave up after ${attempts} attempts`);
  }
}

export const DEFAULT_MAX_ATTEMPTS = 60;

/**
 * The state and version of the carts this process appended to last, at most `capacity` of them (least recently
 * used first out). A hint, never the truth: events are immutable and versions contiguous, so a cart's state at
 * version v is the fold of its events 1..v forever, and an append at v+1 succeeds only if v is still the latest.
 * A stale entry therefore costs one refused append and a catch-up read, never a wrong decision that is stored.
 */
export class RecentCarts {
  private readonly carts = new Map<string, LoadedCart>();

  constructor(readonly capacity = 10_000) {}

  get(cartId: string): LoadedCart | undefined {
    const cart = this.carts.get(cartId);
    if (cart) {
      // Most recently used last: Map keeps insertion order.
      this.carts.delete(cartId);
      this.carts.set(cartId, cart);
    }
    return cart;
  }

  remember(cart: LoadedCart): void {
    if (cart.state.status === 'NONE' || (this.carts.get(cart.cartId)?.version ?? 0) > cart.version) return;
    this.carts.delete(cart.cartId);
    this.carts.set(cart.cartId, cart);
    if (this.carts.size > this.capacity) this.carts.delete(this.carts.keys().next().value!);
  }

  get size(): number {
    return this.carts.size;
  }
}

export function toCartEvents(envelopes: readonly EventEnvelope[]): CartEvent[] {
  return envelopes.map((e) => upcastCartEvent(e.type, e.schemaVersion, e.data));
}

export async function loadCart(store: EventStore, cartId: string): Promise<LoadedCart> {
  return (await readAndFold(store, { cartId, state: initialCartState, version: 0 })).cart;
}

/** A UUID (version 8: custom) derived from a text: the same text gives the same id. */
export function uuidFromText(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex').slice(0, 32).split('');
  hex[12] = '8';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The id of the index-th event of a command with an id: stable across attempts, so a stored one is recognised. */
export function commandEventId(commandId: string, index: number): string {
  return uuidFromText(`${commandId}#event-${index}`);
}

export function stampEvents(
  cartId: string,
  fromVersion: number,
  events: readonly CartEvent[],
  occurredAt: Date,
  newEventId: () => string,
): EventEnvelope[] {
  return events.map((event, index) => ({
    eventId: newEventId(),
    aggregateType: CART_AGGREGATE_TYPE,
    aggregateId: cartId,
    version: fromVersion + index + 1,
    type: event.type,
    schemaVersion: CURRENT_SCHEMA_VERSION[event.type],
    occurredAt: occurredAt.toISOString(),
    data: event.data,
  }));
}

/**
 * Runs one command against the cart's current state and appends its events under optimistic concurrency.
 * Without an expected version a lost race is retried on fresh state, with full-jitter backoff, so concurrent
 * writers to one cart all get through; with one, a moved cart is refused (ExpectedVersionMismatch).
 */
export async function executeCartCommand(
  store: EventStore,
  cartId: string,
  command: CartCommand,
  options: CartCommandOptions = {},
): Promise<{ cartId: string; version: number; events: EventEnvelope[] }> {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const clock = options.clock ?? { now: () => new Date() };
  const { commandId } = options;
  const newEventId = options.newEventId ?? randomUUID;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  // Every id this call stamped: one found in the stream means one of its writes was applied, perhaps after the
  // SDK had given up on it and retried.
  const ownIds = new Set<string>();
  const ownResult = (events: readonly EventEnvelope[]) => (events.length === 0 ? undefined : { cartId, version: events.at(-1)!.version, events: [...events] });

  let cart: LoadedCart = { cartId, state: initialCartState, version: 0 };
  // True while `cart` comes from recentCarts and has not been checked against the store: anything it refuses
  // (a rule, the expected version) is checked again on the stored cart before the caller hears of it.
  let unchecked = false;
  const recent = commandId === undefined && command.type !== 'OpenCart' ? options.recentCarts?.get(cartId) : undefined;
  if (recent) {
    cart = recent;
    unchecked = true;
  } else if (command.type !== 'OpenCart' || commandId !== undefined) {
    const loaded = await readAndFold(store, cart);
    // An earlier request of this command (a client retry after a timeout) got its events in already.
    const earlier = commandId === undefined ? undefined : ownResult(eventsOfCommand(loaded.events, commandId));
    if (earlier) return earlier;
    // OpenCart is decided on an empty cart even when the cart exists: the append then refuses it.
    if (command.type !== 'OpenCart') cart = loaded.cart;
  }
  const catchUp = async () => {
    cart = (await readAndFold(store, cart)).cart;
    unchecked = false;
  };
  for (let attempt = 1; ; attempt++) {
    // A cart that does not exist is reported as such (decide refuses it), not as a version mismatch.
    if (options.expectedVersion !== undefined && options.expectedVersion !== cart.version && cart.state.status !== 'NONE') {
      if (unchecked) {
        await catchUp();
        continue;
      }
      throw new ExpectedVersionMismatch(options.expectedVersion, cart.version);
    }
    let index = 0;
    const nextId = commandId === undefined ? newEventId : () => commandEventId(commandId, index++);
    let decided: CartEvent[];
    try {
      decided = decide(command, cart.state);
    } catch (error) {
      if (!(unchecked && error instanceof CartRuleViolation)) throw error;
      await catchUp();
      continue;
    }
    // A command that decides nothing still appends: the empty append confirms the version against the store, so a
    // version from recentCarts (or a read another writer has since passed) is never answered unchecked.
    const events = stampEvents(cartId, cart.version, decided, clock.now(), nextId);
    for (const event of events) ownIds.add(event.eventId);
    try {
      const appended = await store.appendToStream(cartId, cart.version, events);
      options.recentCarts?.remember({ cartId, state: fold(decided, cart.state), version: appended.version });
      return { cartId, version: appended.version, events };
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
      const mustRefuse = options.expectedVersion !== undefined || command.type === 'OpenCart';
      // A remembered cart that moved on elsewhere is not contention: catch up at once.
      if (!mustRefuse && !unchecked) {
        if (attempt >= maxAttempts) throw new ConcurrencyRetriesExhausted(attempt);
        await sleep(Math.random() * Math.min(250, 5 * 2 ** Math.min(attempt, 6)));
      }
      const wasUnchecked = unchecked;
      // Catch up with only what the winners appended: a hot cart's retries stay cheap however long it is.
      const newer = await readAndFold(store, cart);
      unchecked = false;
      // The winner may be this very command: an attempt whose answer was lost (a timeout) but which was applied.
      const applied = ownResult(newer.events.filter((event) => ownIds.has(event.eventId)));
      if (applied) return applied;
      // With an expected version, a remembered cart that had moved is decided again on the stored one.
      if (options.expectedVersion !== undefined && !wasUnchecked) throw new ExpectedVersionMismatch(options.expectedVersion);
      // A new cart id that already exists is not a race to retry: the cart is there.
      if (command.type === 'OpenCart') throw error;
      cart = newer.cart;
    }
  }
}

async function readAndFold(store: EventStore, cart: LoadedCart): Promise<{ cart: LoadedCart; events: EventEnvelope[] }> {
  const newer = await store.readStream(cart.cartId, cart.version);
  return { cart: { cartId: cart.cartId, state: fold(toCartEvents(newer.events), cart.state), version: newer.version }, events: newer.events };
}

/** The run of events an earlier request of this command wrote: from its first derived id on, while the ids follow. */
function eventsOfCommand(events: readonly EventEnvelope[], commandId: string): EventEnvelope[] {
  const start = events.findIndex((event) => event.eventId === commandEventId(commandId, 0));
  if (start === -1) return [];
  const own: EventEnvelope[] = [];
  for (let i = start; i < events.length && events[i]!.eventId === commandEventId(commandId, i - start); i++) own.push(events[i]!);
  return own;
}
