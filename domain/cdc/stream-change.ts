/**
 * One DynamoDB stream record with its images already unmarshalled to plain values (the adapter does that), so
 * that the diff stays free of AWS types.
 */
export interface StreamChange {
  /** The stream record's eventID: names the record in every error and dead letter. */
  readonly recordId: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: Readonly<Record<string, unknown>>;
  readonly sequenceNumber: string;
  /** Epoch seconds, as the stream gives it (DynamoDB Local rounds it to the minute). */
  readonly approximateCreationDateTime?: number;
  readonly oldImage?: Readonly<Record<string, unknown>>;
  readonly newImage?: Readonly<Record<string, unknown>>;
}

export type StreamRecordProblem =
  /** The record or an image does not have the shape the configured layout promises. */
  | 'malformed-record'
  /** The image is well formed but an added event is one that no event schema accepts. */
  | 'rejected-event'
  /** The record's events cannot fit in one enrichment response or one Kinesis record, however it is batched. */
  | 'too-large';

/**
 * A stream record that cannot be turned into events. It names the record (eventID and Keys) so that an operator
 * can find the item; the caller dead-letters it with this message and lets the rest of the batch flow on.
 */
export class UnprocessableStreamRecord extends Error {
  override readonly name = 'UnprocessableStreamRecord';
  constructor(
    readonly problem: StreamRecordProblem,
    readonly recordId: string,
    readonly keys: unknown,
    readonly reason: string,
  ) {
    super(`stream record ${recordId} (keys ${safeJson(keys)}): ${reason}`);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'undefined';
  } catch {
    return String(value);
  }
}
