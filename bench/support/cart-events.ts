import { randomUUID } from 'node:crypto';
import { stampEvents } from '../../application/cart-commands';
import type { CartEvent } from '../../domain/cart';
import type { EventEnvelope } from '../../domain/events';

/** The same cart events for every store and layout: CartOpened, then ItemAdded over 50 skus. */
export function cartEvent(version: number): CartEvent {
  return version === 1 ? { type: 'CartOpened', data: {} } : { type: 'ItemAdded', data: { sku: `SKU-${String(version % 50).padStart(4, '0')}`, quantity: 1 + (version % 3) } };
}

/** Envelopes for versions fromVersion+1 .. fromVersion+count of one cart. */
export function cartEnvelopes(cartId: string, fromVersion: number, count: number): EventEnvelope[] {
  const events = Array.from({ length: count }, (_, i) => cartEvent(fromVersion + i + 1));
  return stampEvents(cartId, fromVersion, events, new Date(), randomUUID);
}
