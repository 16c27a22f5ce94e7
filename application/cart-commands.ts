import { randomUUID } from 'node:crypto';
import { CART_AGGREGATE_TYPE, type EventEnvelope } from '../domain/events';
import {
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
  readonly sleep?: (ms: number) => Promise<void>;
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

export function toCartEvents(envelopes: readonly EventEnvelope[]): CartEvent[] {
  return envelopes.map((e) => upcastCartEvent(e.type, e.schemaVersion, e.data));
}

export async function loadCart(store: EventStore, cartId: string): Promise<LoadedCart> {
  return catchUp(store, { cartId, state: initialCartState, version: 0 });
}

async function catchUp(store: EventStore, cart: LoadedCart): Promise<LoadedCart> {
  const newer = await store.readStream(cart.cartId, cart.version);
  return { cartId: cart.cartId, state: fold(toCartEvents(newer.events), cart.state), version: newer.version };
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
  const newEventId = options.newEventId ?? randomUUID;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  let cart: LoadedCart = { cartId, state: initialCartState, version: 0 };
  if (command.type !== 'OpenCart') cart = await loadCart(store, cartId);
  for (let attempt = 1; ; attempt++) {
    // A cart that does not exist is reported as such (decide refuses it), not as a version mismatch.
    if (options.expectedVersion !== undefined && options.expectedVersion !== cart.version && cart.state.status !== 'NONE') {
      throw new ExpectedVersionMismatch(options.expectedVersion, cart.version);
    }
    const events = stampEvents(cartId, cart.version, decide(command, cart.state), clock.now(), newEventId);
    try {
      const appended = await store.appendToStream(cartId, cart.version, events);
      return { cartId, version: appended.version, events };
    } catch (error) {
      if (!(error instanceof VersionConflict)) throw error;
      if (options.expectedVersion !== undefined) throw new ExpectedVersionMismatch(options.expectedVersion);
      // A new cart id that already exists is not a race to retry: the cart is there.
      if (command.type === 'OpenCart') throw error;
      if (attempt >= maxAttempts) throw new ConcurrencyRetriesExhausted(attempt);
      await sleep(Math.random() * Math.min(250, 5 * 2 ** Math.min(attempt, 6)));
      // Catch up with only what the winners appended: a hot cart's retries stay cheap however long it is.
      cart = await catchUp(store, cart);
    }
  }
}
