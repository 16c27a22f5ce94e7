import type { EventEnvelope } from '../domain/events';

/** One archive object as a listing shows it. */
export interface ArchiveObjectInfo {
  readonly key: string;
  readonly etag: string;
  readonly size: number;
}

/** The S3 archive, as replay and backfill use it. */
export interface ArchiveObjects {
  list(prefix: string): AsyncIterable<ArchiveObjectInfo>;
  /** The object's text; undefined when it does not exist (any more). */
  read(key: string): Promise<string | undefined>;
  write(key: string, body: string): Promise<void>;
}

/** Counts summed over the projections applied to (an event applied to two projections counts twice). */
export interface ApplyCounts {
  readonly applied: number;
  /** At or below the stored version: applied before (a duplicate), skipped now. */
  readonly skipped: number;
  /** Events read from the event store to fill a gap before an input event (not counted in `applied`). */
  readonly caughtUp: number;
}

/**
 * The read models a replay rebuilds (application/projections.ts behind application/replay-projections.ts).
 * `apply` is idempotent per cart version (an event at or below the stored version is skipped) and never
 * applies an event past a gap: it catches up from the event store first.
 */
export interface ReplayProjections {
  /** Every projection by name, e.g. ['cart-summary', 'item-popularity']. */
  readonly names: readonly string[];
  /** Into one generation (a rebuild's), or without one into every generation the live consumers write. */
  apply(names: readonly string[], events: readonly EventEnvelope[], generation?: number): Promise<ApplyCounts>;
}

/** The event stream, for a replay with target "stream". Returns how many were published. */
export interface EventRepublisher {
  publish(events: readonly EventEnvelope[]): Promise<number>;
}

/** A dependency refused for load (DynamoDB, Kinesis, S3 throttling): the state machine retries with backoff. */
export class Throttled extends Error {
  override readonly name = 'Throttled';
}
