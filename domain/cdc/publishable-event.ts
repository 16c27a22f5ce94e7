import { z } from 'zod';
import { CURRENT_SCHEMA_VERSION, isCartEventType, upcastCartEvent, UnknownEventError } from '../cart/events';
import { CART_AGGREGATE_TYPE, EventEnvelope } from '../events/envelope';

/** Why an event is refused, from the outermost check to the innermost. */
export type EventRefusalKind = 'not-an-envelope' | 'unknown-aggregate-type' | 'unknown-type' | 'unknown-schema-version' | 'invalid-data';

export type EventCheck =
  | { readonly ok: true; readonly envelope: EventEnvelope }
  | { readonly ok: false; readonly refusal: EventRefusalKind; readonly reason: string };

/**
 * The one check an event passes before the CDC publishes it: the envelope's shape, then the cart's event schemas
 * (type, schema version, payload). The enrichment, the backfill (which must never archive what the CDC refuses)
 * and the replay (which must never apply it) all ask this function, so they cannot disagree.
 */
export function checkPublishableEvent(candidate: unknown): EventCheck {
  const parsed = EventEnvelope.safeParse(candidate);
  if (!parsed.success) return { ok: false, refusal: 'not-an-envelope', reason: z.prettifyError(parsed.error).replace(/\n/g, '; ') };
  const envelope = parsed.data;
  if (envelope.aggregateType !== CART_AGGREGATE_TYPE) {
    return { ok: false, refusal: 'unknown-aggregate-type', reason: `no event schemas for aggregate type "${envelope.aggregateType}"` };
  }
  try {
    upcastCartEvent(envelope.type, envelope.schemaVersion, envelope.data);
  } catch (error) {
    if (!(error instanceof UnknownEventError)) throw error;
    return { ok: false, refusal: refusalOfSchema(envelope), reason: error.message };
  }
  return { ok: true, envelope };
}

function refusalOfSchema(envelope: EventEnvelope): EventRefusalKind {
  if (!isCartEventType(envelope.type)) return 'unknown-type';
  return envelope.schemaVersion > CURRENT_SCHEMA_VERSION[envelope.type] ? 'unknown-schema-version' : 'invalid-data';
}
