import type { EventEnvelope } from '../../domain/events/envelope';

/** Kinesis PutRecords takes at most 500 records; a Pipe with more elements than that does not invoke its target. */
export const MAX_ENVELOPES_PER_RESPONSE = 500;
/**
 * The enrichment's response must stay under Lambda's 6 MB, and the Pipe puts it into Kinesis as one PutRecords,
 * which takes at most 5 MiB of data plus partition keys: the tighter of the two is the budget.
 */
export const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;
/** One Kinesis record's data blob. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** Bytes one envelope costs in a PutRecords: its UTF-8 JSON (the record's Data) plus its partition key. */
export function putRecordBytes(envelope: EventEnvelope): number {
  return Buffer.byteLength(JSON.stringify(envelope)) + Buffer.byteLength(envelope.aggregateId);
}

/**
 * Thrown when the records of a batch each fit but together exceed one response. Pipes documents no partial
 * handling of an enrichment failure: the whole batch is retried, up to MaximumRetryAttempts, and then goes to the
 * Pipe's dead-letter queue (as batch metadata; its events are still in the store, and a backfill republishes
 * them). The batch sizes in pipe-settings.ts keep it rare; this error makes it loud, instead of a Kinesis target
 * that Pipes silently does not invoke for more than 500 elements.
 */
export class EnrichmentOutputTooLarge extends Error {
  override readonly name = 'EnrichmentOutputTooLarge';
  constructor(
    readonly envelopes: number,
    readonly bytes: number,
    readonly records: number,
  ) {
    super(
      `${records} stream records split into ${envelopes} envelopes of ${bytes} bytes, over one response ` +
        `(${MAX_ENVELOPES_PER_RESPONSE} envelopes, ${MAX_RESPONSE_BYTES} bytes): retry the batch in smaller parts`,
    );
  }
}
