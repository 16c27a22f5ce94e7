import type { EventEnvelope } from '../domain/events';
import type { CartSummary } from '../domain/projections';
import type { EventStore } from './event-store';
import type { ReadModels } from './read-models';

export interface CartInspection {
  readonly cartId: string;
  /** The cart's stored events, the source of truth, in version order. */
  readonly events: readonly EventEnvelope[];
  readonly storedVersion: number;
  /** The cart-summary read model, or undefined when the projection has no row (yet). */
  readonly readModel: CartSummary | undefined;
  /** How many stored events the read model has not applied yet (0 when it is caught up). */
  readonly readModelBehindBy: number;
}

/** A cart's stored events beside its read model: what the console's cart view and `cdc-cart cart ID` show. */
export async function inspectCart(store: EventStore, readModels: ReadModels, cartId: string): Promise<CartInspection> {
  const [stream, readModel] = await Promise.all([store.readStream(cartId), readModels.cartSummary(cartId)]);
  return {
    cartId,
    events: stream.events,
    storedVersion: stream.version,
    readModel,
    readModelBehindBy: Math.max(0, stream.version - (readModel?.version ?? 0)),
  };
}
