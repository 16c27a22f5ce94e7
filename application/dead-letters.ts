/**
 * Where a part of the pipeline puts an item it gives up on, with the reason, so that nothing is dropped
 * silently: the item can be inspected, fixed and redriven. On AWS an SQS queue, locally a JSON Lines file.
 */
export interface DeadLetter {
  /** Which part gave up, e.g. `cdc-enrichment`, `pipe`, `consumer:projections`. */
  readonly source: string;
  readonly reason: string;
  /** ISO 8601. */
  readonly failedAt: string;
  /** What identifies the item at a glance: stream record eventID and Keys, Kinesis sequence number, eventId... */
  readonly ids?: Readonly<Record<string, unknown>>;
  /** The item as it was received (stream record, envelope, Kinesis record), so that it can be redriven. */
  readonly payload: unknown;
}

export interface DeadLetterQueue {
  /** Resolves once every letter is durably stored; rejects otherwise, so the caller keeps the items. */
  send(letters: readonly DeadLetter[]): Promise<void>;
}
