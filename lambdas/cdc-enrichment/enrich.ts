import type { DeadLetter, DeadLetterQueue } from '../../application/dead-letters';
import { toStreamChange } from '../../adapters/dynamodb/stream-records';
import { eventsAddedBy, UnprocessableStreamRecord, type StoreLayout, type StreamChange } from '../../domain/cdc';
import type { EventEnvelope } from '../../domain/events/envelope';
import {
  EnrichmentOutputTooLarge,
  MAX_ENVELOPES_PER_RESPONSE,
  MAX_RECORD_BYTES,
  MAX_RESPONSE_BYTES,
  putRecordBytes,
} from './output-limits';

export const DEAD_LETTER_SOURCE = 'cdc-enrichment';

export interface EnrichmentOptions {
  readonly layout: StoreLayout;
  readonly deadLetters: DeadLetterQueue;
  /** Called once per readable record with the number of events it added (metrics). */
  readonly onRecord?: (change: StreamChange, events: number) => void;
  readonly onDeadLetter?: (letter: DeadLetter) => void;
  readonly now?: () => Date;
}

export type Enrichment = (records: unknown) => Promise<EventEnvelope[]>;

/**
 * What the Pipe's enrichment step does with one batch of DynamoDB stream records: split each into the events it
 * added, one envelope per event, in stream order (so in version order per cart). A record that cannot be split
 * is dead-lettered with its reason and the rest flows on. The response always fits one PutRecords; a batch
 * that would not is refused as a whole (EnrichmentOutputTooLarge) before anything is dead-lettered, so that the
 * Pipe's whole-batch retries send no letter twice.
 */
export function createEnrichment(options: EnrichmentOptions): Enrichment {
  const now = options.now ?? (() => new Date());
  return async (records) => {
    if (!Array.isArray(records)) throw new TypeError('the enrichment takes the array of DynamoDB stream records that a Pipe sends');
    const envelopes: EventEnvelope[] = [];
    const letters: DeadLetter[] = [];
    let bytes = 0;
    for (const record of records) {
      try {
        const change = toStreamChange(record);
        const added = eventsAddedBy(change, options.layout);
        const size = sizeOfRecord(change, added);
        envelopes.push(...added);
        bytes += size;
        options.onRecord?.(change, added.length);
      } catch (error) {
        if (!(error instanceof UnprocessableStreamRecord)) throw error;
        letters.push({
          source: DEAD_LETTER_SOURCE,
          reason: error.message,
          failedAt: now().toISOString(),
          ids: { problem: error.problem, eventID: error.recordId, keys: error.keys, sequenceNumber: sequenceNumberOf(record) },
          payload: record,
        });
      }
    }
    if (envelopes.length > MAX_ENVELOPES_PER_RESPONSE || bytes > MAX_RESPONSE_BYTES) {
      throw new EnrichmentOutputTooLarge(envelopes.length, bytes, records.length);
    }
    if (letters.length > 0) {
      await options.deadLetters.send(letters);
      for (const letter of letters) options.onDeadLetter?.(letter);
    }
    return envelopes;
  };
}

/** A record that could never be published, whatever the batch around it: dead-lettered instead of retried forever. */
function sizeOfRecord(change: StreamChange, added: readonly EventEnvelope[]): number {
  const fail = (reason: string): never => {
    throw new UnprocessableStreamRecord('too-large', change.recordId, change.keys, reason);
  };
  if (added.length > MAX_ENVELOPES_PER_RESPONSE) fail(`it adds ${added.length} events; one Pipe batch can publish at most ${MAX_ENVELOPES_PER_RESPONSE}`);
  let total = 0;
  for (const envelope of added) {
    const size = putRecordBytes(envelope);
    if (size > MAX_RECORD_BYTES) fail(`event ${envelope.eventId} is ${size} bytes as a Kinesis record; the limit is ${MAX_RECORD_BYTES}`);
    total += size;
  }
  if (total > MAX_RESPONSE_BYTES) fail(`its ${added.length} events take ${total} bytes; one response holds at most ${MAX_RESPONSE_BYTES}`);
  return total;
}

function sequenceNumberOf(record: unknown): unknown {
  return (record as { dynamodb?: { SequenceNumber?: unknown } } | null)?.dynamodb?.SequenceNumber;
}
