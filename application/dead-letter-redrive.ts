import type { DeadLetter } from './dead-letters';

/** A dead letter as an operator sees it: with an id that names it until it is redriven. */
export interface StoredDeadLetter extends DeadLetter {
  readonly id: string;
}

/** Where letters wait for an operator (port): the local JSON Lines file, or on AWS the dead-letter queue. */
export interface DeadLetterInbox {
  /** Letters not yet redriven, oldest first. */
  pending(): Promise<StoredDeadLetter[]>;
  /** Removes letters for good; called only once their redrive succeeded. */
  remove(ids: readonly string[]): Promise<void>;
}

/**
 * What a letter holds, which decides how it goes back:
 * - `stream-record`: a DynamoDB stream record the enrichment could not split or the Pipe could not enrich
 *   (source `cdc-enrichment`, or `pipe`): back through the enrichment and the Pipe's target (Kinesis);
 * - `envelope`: an event the Pipe enriched but could not put into Kinesis (source `pipe`): back to the target;
 * - `pipe-batch`: a batch of stream records the Pipe gave up on (source `pipe`), which holds only where the batch
 *   is in the stream (`DDBStreamBatchInfo`: shard, first and last sequence number, size), as on AWS: its records are
 *   read back from the stream and go the way of a `stream-record`;
 * - `consumer-batch`: what a consumer's event source mapping gave up on (source `consumer:<name>`): back
 *   through that consumer.
 */
export type DeadLetterKind = 'stream-record' | 'envelope' | 'pipe-batch' | 'consumer-batch';

/** One function per kind: resolves once the letter's content went through, rejects with the reason otherwise. */
export type Redrivers = Readonly<Record<DeadLetterKind, (letter: StoredDeadLetter) => Promise<void>>>;

export interface RedriveOutcome {
  readonly id: string;
  readonly source: string;
  readonly redriven: boolean;
  /** Why the letter stays (it is kept, unchanged, for another try). */
  readonly reason?: string;
}

export function deadLetterKind(letter: DeadLetter): DeadLetterKind | undefined {
  if (letter.source.startsWith('consumer:')) return 'consumer-batch';
  const payload = letter.payload as Record<string, unknown> | null | undefined;
  if (payload && typeof payload === 'object') {
    if (typeof payload.dynamodb === 'object' && payload.dynamodb !== null) return 'stream-record';
    if (typeof payload.eventId === 'string' && typeof payload.aggregateId === 'string') return 'envelope';
    if (typeof payload.DDBStreamBatchInfo === 'object' && payload.DDBStreamBatchInfo !== null) return 'pipe-batch';
  }
  return undefined;
}

/**
 * Redrives the chosen letters (all pending ones when `ids` is 'all'), one at a time and oldest first, so that a
 * cart's letters go back in the order they failed. A letter is removed only after its redrive succeeded; one
 * that fails again stays as it was, with the new reason in the outcome. Ids that name no pending letter are
 * reported, not ignored.
 */
export async function redriveDeadLetters(inbox: DeadLetterInbox, redrivers: Redrivers, ids: readonly string[] | 'all'): Promise<RedriveOutcome[]> {
  const pending = await inbox.pending();
  const chosen = ids === 'all' ? pending : pending.filter((letter) => ids.includes(letter.id));
  const outcomes: RedriveOutcome[] = [];
  if (ids !== 'all') {
    const known = new Set(pending.map((letter) => letter.id));
    for (const id of ids) if (!known.has(id)) outcomes.push({ id, source: 'unknown', redriven: false, reason: 'no pending dead letter has this id' });
  }
  for (const letter of chosen) {
    const kind = deadLetterKind(letter);
    if (!kind) {
      outcomes.push({ id: letter.id, source: letter.source, redriven: false, reason: 'its payload is neither a stream record, an event envelope, a Pipe batch nor a consumer batch' });
      continue;
    }
    try {
      await redrivers[kind](letter);
    } catch (error) {
      outcomes.push({ id: letter.id, source: letter.source, redriven: false, reason: (error as Error).message || String(error) });
      continue;
    }
    await inbox.remove([letter.id]);
    outcomes.push({ id: letter.id, source: letter.source, redriven: true });
  }
  return outcomes;
}
