import { evolve, fold, initialCartState, upcastCartEvent, type CartEvent, type CartLine, type CartState } from '../cart';
import { CART_AGGREGATE_TYPE, type EventEnvelope } from '../events';

/**
 * What every cart projection keeps per cart: the version of the last event it applied, and the cart state that
 * the events up to that version fold to. Version 0 = nothing applied yet.
 */
export interface CartCursor {
  readonly version: number;
  readonly state: CartState;
}

export const EMPTY_CURSOR: CartCursor = { version: 0, state: initialCartState };

/** A cart event with its place in the cart's history. */
export interface VersionedCartEvent {
  readonly version: number;
  readonly eventId: string;
  readonly event: CartEvent;
}

/**
 * Where an incoming event stands against what a projection applied:
 *  - `duplicate`: at or below the stored version, applied already (a re-delivery or a replay): skip it;
 *  - `next`: exactly the next version: apply it;
 *  - `gap`: versions in between are missing (lost or re-ordered delivery): never apply it blindly.
 */
export type VersionCheck =
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'next' }
  | { readonly kind: 'gap'; readonly missingFrom: number; readonly missingTo: number };

export function checkVersion(appliedVersion: number, incomingVersion: number): VersionCheck {
  if (incomingVersion <= appliedVersion) return { kind: 'duplicate' };
  if (incomingVersion === appliedVersion + 1) return { kind: 'next' };
  return { kind: 'gap', missingFrom: appliedVersion + 1, missingTo: incomingVersion - 1 };
}

/** Projections are about carts; an envelope of another aggregate type passes them by. */
export function isCartEnvelope(envelope: EventEnvelope): boolean {
  return envelope.aggregateType === CART_AGGREGATE_TYPE;
}

/**
 * Lifts an envelope to a cart event of the current schema. Throws UnknownEventError for a type or payload no
 * schema accepts: a projection must never skip such an event silently, or it would drift from the store.
 */
export function toVersionedCartEvent(envelope: EventEnvelope): VersionedCartEvent {
  return { version: envelope.version, eventId: envelope.eventId, event: upcastCartEvent(envelope.type, envelope.schemaVersion, envelope.data) };
}

/** Applies a contiguous run of events (versions cursor.version+1, +2, ...) to a cursor. */
export function advanceCursor(cursor: CartCursor, events: readonly VersionedCartEvent[]): CartCursor {
  let { version, state } = cursor;
  for (const next of events) {
    if (next.version !== version + 1) {
      throw new RangeError(`event version ${next.version} does not follow version ${version}: runs must be contiguous`);
    }
    state = evolve(state, next.event);
    version = next.version;
  }
  return { version, state };
}

export function linesOf(state: CartState): readonly CartLine[] {
  return state.status === 'NONE' ? [] : state.items;
}

/** The from-scratch reference: a cart's events, each once, in version order, folded from nothing. */
export function foldCart(events: readonly VersionedCartEvent[]): CartCursor {
  const sorted = [...events].sort((a, b) => a.version - b.version);
  return { version: sorted.at(-1)?.version ?? 0, state: fold(sorted.map((e) => e.event)) };
}
