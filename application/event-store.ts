import type { EventEnvelope } from '../domain/events';

export interface StoredStream {
  readonly events: EventEnvelope[];
  /** Version of the last event read; `afterVersion` (0 by default) when there is none after it. */
  readonly version: number;
}

export interface AppendResult {
  readonly version: number;
  /** Write units the store reports for the append, when it reports them. */
  readonly consumedWriteUnits?: number;
}

/**
 * The source of truth. Appends are atomic and conditional: events carry versions expectedVersion+1..n,
 * and if any of those versions exists already the whole append fails with VersionConflict. An empty append
 * succeeds only on a stream at expectedVersion (it confirms the version without writing).
 */
export interface EventStore {
  /** The stream's events in version order; with afterVersion, only those after it (a retry's catch-up). */
  readStream(aggregateId: string, afterVersion?: number): Promise<StoredStream>;
  appendToStream(aggregateId: string, expectedVersion: number, events: readonly EventEnvelope[]): Promise<AppendResult>;
}

export class VersionConflict extends Error {
  override readonly name = 'VersionConflict';
  constructor(
    readonly aggregateId: string,
    readonly expectedVersion: number,
  ) {
    super(`stream ${aggregateId} has moved past version ${expectedVersion}`);
  }
}
