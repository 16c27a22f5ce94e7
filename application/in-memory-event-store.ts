import type { EventEnvelope } from '../domain/events';
import { VersionConflict, type AppendResult, type EventStore, type StoredStream } from './event-store';

/**
 * The EventStore port held in memory, with the same conditional semantics as the DynamoDB adapter: an append
 * fails whole with VersionConflict when any of its versions exists already. For unit tests of the use cases.
 */
export class InMemoryEventStore implements EventStore {
  private readonly streams = new Map<string, EventEnvelope[]>();
  readonly appends: { aggregateId: string; expectedVersion: number; count: number; outcome: 'appended' | 'conflict' }[] = [];

  /** Runs before each append's condition is checked: a test's way to let another writer in first. */
  beforeAppend?: (aggregateId: string, expectedVersion: number) => Promise<void> | void;

  async readStream(aggregateId: string, afterVersion = 0): Promise<StoredStream> {
    const events = structuredClone((this.streams.get(aggregateId) ?? []).filter((event) => event.version > afterVersion));
    return { events, version: events.at(-1)?.version ?? afterVersion };
  }

  async appendToStream(aggregateId: string, expectedVersion: number, events: readonly EventEnvelope[]): Promise<AppendResult> {
    await this.beforeAppend?.(aggregateId, expectedVersion);
    const stream = this.streams.get(aggregateId) ?? [];
    const taken = new Set(stream.map((event) => event.version));
    // An empty append checks the version like any other: the stream must be at expectedVersion.
    const emptyOnAnotherVersion = events.length === 0 && (stream.at(-1)?.version ?? 0) !== expectedVersion;
    if (emptyOnAnotherVersion || events.some((event) => taken.has(event.version))) {
      this.appends.push({ aggregateId, expectedVersion, count: events.length, outcome: 'conflict' });
      throw new VersionConflict(aggregateId, expectedVersion);
    }
    this.streams.set(aggregateId, [...stream, ...structuredClone([...events])].sort((a, b) => a.version - b.version));
    this.appends.push({ aggregateId, expectedVersion, count: events.length, outcome: 'appended' });
    return { version: expectedVersion + events.length };
  }

  /** Appends outside any use case, as another process would. */
  seed(events: readonly EventEnvelope[]): void {
    for (const event of events) {
      const stream = this.streams.get(event.aggregateId) ?? [];
      this.streams.set(event.aggregateId, [...stream, structuredClone(event)]);
    }
  }
}
