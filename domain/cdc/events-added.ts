import { type EventEnvelope } from '../events/envelope';
import { checkPublishableEvent } from './publishable-event';
import { envelopeOfSeedEvent } from './seed-events';
import type { StoreLayout } from './store-layout';
import { UnprocessableStreamRecord, type StreamChange, type StreamRecordProblem } from './stream-change';

type Image = Readonly<Record<string, unknown>>;
type Fail = (problem: StreamRecordProblem, reason: string) => never;

/** An event as a layout stores it, mapped to envelope fields but not yet validated. */
interface StoredEvent {
  readonly eventId: unknown;
  readonly aggregateType: unknown;
  readonly aggregateId: unknown;
  readonly version: unknown;
  readonly type: unknown;
  readonly schemaVersion: unknown;
  readonly occurredAt: unknown;
  readonly data: unknown;
}

interface LayoutReader {
  /** Identities of the events an image holds (the old image: only identities are needed, not whole events). */
  identities(image: Image, fail: Fail): Set<string>;
  /** The events of the new image that `known` does not contain, in the image's order, validated as today's envelopes. */
  eventsNotIn(known: ReadonlySet<string>, image: Image, change: StreamChange, fail: Fail): EventEnvelope[];
}

const eventPerItem: LayoutReader = {
  identities(image, fail) {
    return new Set([identityOf(image.eventId, 'eventId', fail)]);
  },
  eventsNotIn(known, image, change, fail) {
    const eventId = identityOf(image.eventId, 'eventId', fail);
    if (known.has(eventId)) return [];
    const stored: StoredEvent = {
      eventId,
      aggregateType: image.aggregateType,
      aggregateId: image.aggregateId,
      version: image.version,
      type: image.type,
      schemaVersion: image.schemaVersion,
      occurredAt: image.occurredAt,
      data: image.data,
    };
    return [toEnvelope(stored, change.sequenceNumber, fail)];
  },
};

/**
 * The seed's events are published as today's events: their payloads (which carry no schema version) lifted
 * through the seed's upcasters, so that consumers never see the seed's vocabulary.
 */
const aggregateItem: LayoutReader = {
  identities(image, fail) {
    const ids = new Set<string>();
    for (const entry of eventListOf(image, fail)) ids.add(identityOf(mapOf(entry, fail).EventUuid, 'Events[].EventUuid', fail));
    return ids;
  },
  eventsNotIn(known, image, change, fail) {
    const aggregateId = image.Uuid;
    if (typeof aggregateId !== 'string' || aggregateId === '') fail('malformed-record', 'the item has no string Uuid');
    const added: EventEnvelope[] = [];
    let occurredAt: string | undefined;
    for (const entry of eventListOf(image, fail)) {
      const event = mapOf(entry, fail);
      const eventId = identityOf(event.EventUuid, 'Events[].EventUuid', fail);
      if (known.has(eventId)) continue;
      // The seed stored no time per event; the stream record's creation time is when the change was written.
      occurredAt ??= occurredAtOf(change, fail);
      const read = envelopeOfSeedEvent(event, aggregateId as string, occurredAt);
      if (!read.ok) fail(read.problem, read.reason);
      // Lifted, it passes the same check as any event before it is published.
      else added.push(toEnvelope(read.envelope, change.sequenceNumber, fail));
    }
    return added;
  },
};

const READERS: Record<StoreLayout, LayoutReader> = { 'event-per-item': eventPerItem, 'aggregate-item': aggregateItem };

/**
 * The events one stream record added to the store: every event in the new image that the old image does not hold
 * (by eventId), in version order, each validated as an envelope and against the cart's event schemas (the seed's
 * events lifted to today's).
 * REMOVE records and images without events give nothing. Anything else that cannot be read throws
 * UnprocessableStreamRecord naming the record; nothing is returned for it, so that a cart's events are never
 * published with a hole that nobody was told about.
 */
export function eventsAddedBy(change: StreamChange, layout: StoreLayout): EventEnvelope[] {
  const fail: Fail = (problem, reason) => {
    throw new UnprocessableStreamRecord(problem, change.recordId, change.keys, reason);
  };
  if (change.eventName === 'REMOVE') return [];
  if (!change.newImage) fail('malformed-record', `${change.eventName} record without a NewImage (the stream must be NEW_AND_OLD_IMAGES)`);
  const reader = READERS[layout];
  const known = change.oldImage ? reader.identities(change.oldImage, fail) : new Set<string>();
  const envelopes = reader.eventsNotIn(known, change.newImage!, change, fail);
  if (envelopes.length === 0) return [];

  envelopes.sort((a, b) => a.version - b.version);
  for (let i = 1; i < envelopes.length; i++) {
    if (envelopes[i]!.version === envelopes[i - 1]!.version) {
      fail('malformed-record', `events ${envelopes[i - 1]!.eventId} and ${envelopes[i]!.eventId} share version ${envelopes[i]!.version}`);
    }
  }
  if (new Set(envelopes.map((e) => e.eventId)).size !== envelopes.length) fail('malformed-record', 'the new image holds an eventId twice');
  return envelopes;
}

function toEnvelope(candidate: StoredEvent, sequenceNumber: string, fail: Fail): EventEnvelope {
  const check = checkPublishableEvent({ ...candidate, metadata: { sequenceNumber } });
  if (check.ok) return check.envelope;
  if (check.refusal === 'not-an-envelope') fail('malformed-record', `event ${String(candidate.eventId)}: ${check.reason}`);
  if (check.refusal === 'unknown-aggregate-type') fail('rejected-event', `event ${String(candidate.eventId)}: ${check.reason}`);
  return fail('rejected-event', `event ${String(candidate.eventId)} (version ${String(candidate.version)}): ${check.reason}`);
}

function identityOf(value: unknown, field: string, fail: Fail): string {
  if (typeof value !== 'string' || value === '') fail('malformed-record', `${field} is missing or not a non-empty string`);
  return value as string;
}

function eventListOf(image: Image, fail: Fail): readonly unknown[] {
  const events = image.Events;
  if (events === undefined) return [];
  if (!Array.isArray(events)) fail('malformed-record', 'Events is not a list');
  return events as unknown[];
}

function mapOf(entry: unknown, fail: Fail): Record<string, unknown> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('malformed-record', 'an element of Events is not a map');
  return entry as Record<string, unknown>;
}

function occurredAtOf(change: StreamChange, fail: Fail): string {
  const seconds = change.approximateCreationDateTime;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) {
    fail('malformed-record', 'the aggregate-item layout takes occurredAt from ApproximateCreationDateTime, which the record lacks');
  }
  return new Date(seconds! * 1000).toISOString();
}
