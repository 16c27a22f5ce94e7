import type { EventEnvelope } from '../domain/events';

/** One record of the event stream as an operator looks at it. */
export interface StreamRecordView {
  readonly shardId: string;
  readonly sequenceNumber: string;
  /** ISO 8601: when the stream accepted the record. */
  readonly arrivedAt: string;
  readonly partitionKey: string;
  /** The record's data as an event envelope; absent when the data is not one (then `raw` holds it). */
  readonly envelope?: EventEnvelope;
  readonly raw?: string;
}

/**
 * What stands out about a record, in the light of the records before it:
 * - `duplicate`: its eventId was already in the stream (the Pipe re-publishes a batch after a partial failure);
 * - `redelivered`: a duplicate that came after a later event of its cart (consumers must not go back);
 * - `out-of-order`: a first copy whose cart already showed a later version;
 * - `gap`: the cart's previous version has not been seen (it may come later, or be before the tail started);
 * - `replayed`: republished by a replay (metadata.replayed), which side-effecting consumers ignore;
 * - `unreadable`: the data is not an event envelope.
 */
export type StreamMark = 'duplicate' | 'redelivered' | 'out-of-order' | 'gap' | 'replayed' | 'unreadable';

export interface MarkedStreamRecord extends StreamRecordView {
  readonly marks: readonly StreamMark[];
  /** For a duplicate: the sequence number of the first copy. */
  readonly firstSeenAt?: string;
}

/** How many eventIds and carts a marker remembers; the oldest are forgotten first. */
const DEFAULT_MEMORY = 200_000;

/** Marks records in the order they were read, remembering eventIds and each cart's highest version. */
export class StreamMarker {
  private readonly firstCopy = new Map<string, string>();
  private readonly highestVersion = new Map<string, number>();

  constructor(private readonly memory = DEFAULT_MEMORY) {}

  mark(record: StreamRecordView): MarkedStreamRecord {
    const envelope = record.envelope;
    if (!envelope) return { ...record, marks: ['unreadable'] };
    const marks: StreamMark[] = [];
    const firstSeenAt = this.firstCopy.get(envelope.eventId);
    const highest = this.highestVersion.get(envelope.aggregateId);
    if (firstSeenAt !== undefined) {
      marks.push('duplicate');
      if (highest !== undefined && envelope.version < highest) marks.push('redelivered');
    } else {
      if (highest !== undefined && envelope.version < highest) marks.push('out-of-order');
      if (highest !== undefined && envelope.version > highest + 1) marks.push('gap');
      remember(this.firstCopy, envelope.eventId, record.sequenceNumber, this.memory);
    }
    if (envelope.metadata?.replayed) marks.push('replayed');
    if (highest === undefined || envelope.version > highest) remember(this.highestVersion, envelope.aggregateId, envelope.version, this.memory);
    return { ...record, marks, ...(firstSeenAt !== undefined ? { firstSeenAt } : {}) };
  }
}

function remember<V>(map: Map<string, V>, key: string, value: V, memory: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > memory) map.delete(map.keys().next().value!);
}

/** Events per second over the last `windowMs` of arrivals, from the records' arrival times. */
export function eventsPerSecond(arrivals: readonly number[], now: number, windowMs = 10_000): number {
  const recent = arrivals.filter((at) => at > now - windowMs && at <= now).length;
  return recent / (windowMs / 1000);
}
