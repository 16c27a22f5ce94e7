import { GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DeadLetter, DeadLetterQueue } from '../../application/dead-letters';
import type { PublishResult } from '../../adapters/kinesis/event-publisher';
import { abortableSleep } from '../../adapters/abortable-sleep';
import type { EventEnvelope } from '../../domain/events/envelope';
import type { CdcPipeSettings } from '../../lambdas/cdc-enrichment/pipe-settings';
import { compileFilters } from './event-pattern';
import type { PipePositions, PositionStore, ShardPosition } from './positions';
import { listShards, toPipeRecord } from './stream-source';

export const PIPE_DEAD_LETTER_SOURCE = 'pipe';

export interface LocalPipeOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly settings: CdcPipeSettings;
  /** The enrichment Lambda, invoked as the Pipe invokes it: one batch of records in, envelopes out. */
  readonly enrich: (records: unknown[]) => Promise<EventEnvelope[]>;
  readonly publisher: { publish(envelopes: readonly EventEnvelope[], signal?: AbortSignal): Promise<PublishResult> };
  readonly deadLetters: DeadLetterQueue;
  readonly positions: PositionStore;
  readonly log?: (line: string) => void;
  /** DynamoDB Streams allows about 4 GetRecords a second per shard; Lambda and Pipes poll at that rate. */
  readonly pollIntervalMs?: number;
  readonly discoveryIntervalMs?: number;
  readonly retryBaseDelayMs?: number;
  readonly now?: () => number;
}

interface PendingRecord {
  readonly record: Record<string, unknown>;
  readonly sequenceNumber: string;
  readonly at?: number;
}

class Stopping extends Error {
  override readonly name = 'Stopping';
}

/**
 * The local stand-in for the CDC EventBridge Pipe: polls every shard of the event store's stream (parents
 * before children), filters with the Pipe's filter criteria, batches by BatchSize and
 * MaximumBatchingWindowInSeconds, calls the enrichment, puts the envelopes into Kinesis, and only then moves the
 * shard's checkpoint. A crash loses nothing: what was not checkpointed is read again (consumers dedupe by eventId).
 */
export class LocalPipe {
  private readonly abort = new AbortController();
  private readonly workers = new Map<string, Promise<void>>();
  private readonly matchesFilter: (record: unknown) => boolean;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private state!: PipePositions;
  private discovery?: Promise<void>;

  constructor(private readonly options: LocalPipeOptions) {
    this.matchesFilter = compileFilters(options.settings.filterPatterns);
    this.log = options.log ?? ((line) => console.log(line));
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.state = this.options.positions.load(this.options.streamArn);
    this.discovery = this.discoverShards();
  }

  /** Stops polling; a batch in flight is abandoned without its checkpoint, so it is delivered again after a restart. */
  async stop(): Promise<void> {
    this.abort.abort(new Stopping('the Pipe is stopping'));
    await this.discovery;
    await Promise.all(this.workers.values());
  }

  /** Positions and lag per shard, for status output. */
  status(): Record<string, ShardPosition & { lagMs?: number }> {
    const now = this.now();
    return Object.fromEntries(
      Object.entries(this.state?.shards ?? {}).map(([id, p]) => [id, { ...p, ...(p.lastRecordAt && !p.finished ? { lagMs: now - p.lastRecordAt } : {}) }]),
    );
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  private async discoverShards(): Promise<void> {
    while (!this.signal.aborted) {
      try {
        const shards = await listShards(this.options.streams, this.options.streamArn, this.signal);
        const listed = new Set(shards.map((shard) => shard.shardId));
        for (const shard of shards) {
          if (this.workers.has(shard.shardId) || this.state.shards[shard.shardId]?.finished) continue;
          // A child's records continue its parent's items: it waits until the parent is read to its end.
          if (shard.parentShardId && listed.has(shard.parentShardId) && !this.state.shards[shard.parentShardId]?.finished) continue;
          const worker = this.runShard(shard.shardId).catch((error: Error) => {
            if (!this.signal.aborted) this.log(`[pipe] shard ${shard.shardId} failed: ${error.message}; it restarts from its checkpoint`);
          });
          this.workers.set(shard.shardId, worker.finally(() => this.workers.delete(shard.shardId)));
        }
        // The stream no longer has these shards (trimmed after 24 h): their positions mean nothing now.
        for (const id of Object.keys(this.state.shards)) {
          if (!listed.has(id) && this.state.shards[id]!.finished) delete this.state.shards[id];
        }
      } catch (error) {
        if (!this.signal.aborted) this.log(`[pipe] cannot list the stream's shards: ${(error as Error).message}`);
      }
      await abortableSleep(this.options.discoveryIntervalMs ?? 1_000, this.signal).catch(() => undefined);
    }
  }

  private async runShard(shardId: string): Promise<void> {
    const { streams } = this.options;
    const position = (this.state.shards[shardId] ??= {});
    const { BatchSize, MaximumBatchingWindowInSeconds, MaximumRecordAgeInSeconds } = this.options.settings.source;
    const windowMs = MaximumBatchingWindowInSeconds * 1_000;
    const pollMs = this.options.pollIntervalMs ?? 250;

    let iterator: string | undefined = await this.iteratorAfter(shardId, position.sequenceNumber);
    let pending: PendingRecord[] = [];
    let windowStartedAt = 0;
    let lastRead: PendingRecord | undefined;
    let failures = 0;

    while (!this.signal.aborted && iterator) {
      let records;
      let next: string | undefined;
      try {
        const result = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }), { abortSignal: this.signal });
        records = result.Records ?? [];
        next = result.NextShardIterator;
        failures = 0;
      } catch (error) {
        if (this.signal.aborted) return;
        const name = (error as Error).name;
        if (name === 'ResourceNotFoundException') return;
        if (name === 'TrimmedDataAccessException') this.log(`[pipe] shard ${shardId}: records past the checkpoint were trimmed before they were read`);
        else if (name !== 'ExpiredIteratorException') this.log(`[pipe] shard ${shardId}: GetRecords failed: ${(error as Error).message}`);
        // Start over from the checkpoint: what was read but not flushed is read again.
        pending = [];
        lastRead = undefined;
        failures += 1;
        await abortableSleep(Math.min(5_000, 100 * 2 ** failures), this.signal).catch(() => undefined);
        if (this.signal.aborted) return;
        iterator = await this.iteratorAfter(shardId, name === 'TrimmedDataAccessException' ? undefined : position.sequenceNumber);
        continue;
      }

      const expired: DeadLetter[] = [];
      for (const raw of records) {
        const record = toPipeRecord(raw, this.options.streamArn);
        const at = raw.dynamodb?.ApproximateCreationDateTime?.getTime();
        lastRead = { record, sequenceNumber: raw.dynamodb?.SequenceNumber ?? '', ...(at !== undefined ? { at } : {}) };
        if (at !== undefined && this.now() - at > MaximumRecordAgeInSeconds * 1_000) {
          expired.push(this.letter(`the record is older than MaximumRecordAgeInSeconds (${MaximumRecordAgeInSeconds} s)`, record, { eventID: raw.eventID, sequenceNumber: lastRead.sequenceNumber }));
          continue;
        }
        if (!this.matchesFilter(record)) continue;
        if (pending.length === 0) windowStartedAt = this.now();
        pending.push(lastRead);
      }
      try {
        if (expired.length > 0) await this.options.deadLetters.send(expired);
        while (pending.length >= BatchSize) {
          const batch = pending.splice(0, BatchSize);
          await this.flush(shardId, batch, pending.length === 0 ? lastRead! : batch.at(-1)!);
          windowStartedAt = this.now();
        }
        const closed = next === undefined;
        if (pending.length > 0 && (closed || this.now() - windowStartedAt >= windowMs)) {
          await this.flush(shardId, pending.splice(0), lastRead!);
        } else if (pending.length === 0 && lastRead && lastRead.sequenceNumber !== position.sequenceNumber) {
          // Only filtered-out records since the last checkpoint: nothing to publish, but no need to read them again.
          this.checkpoint(shardId, lastRead);
        }
        if (closed) {
          position.finished = true;
          this.options.positions.save(this.state);
          return;
        }
      } catch (error) {
        if (this.signal.aborted || error instanceof Stopping) return;
        throw error;
      }
      iterator = next;
      if (records.length === 0) {
        const untilWindowEnds = pending.length > 0 ? Math.max(0, windowStartedAt + windowMs - this.now()) : pollMs;
        await abortableSleep(Math.min(pollMs, untilWindowEnds), this.signal).catch(() => undefined);
      }
    }
  }

  private async iteratorAfter(shardId: string, sequenceNumber: string | undefined): Promise<string | undefined> {
    try {
      return await this.iterator(shardId, sequenceNumber);
    } catch (error) {
      if (!sequenceNumber || (error as Error).name !== 'TrimmedDataAccessException') throw error;
      this.log(`[pipe] shard ${shardId}: the checkpoint ${sequenceNumber} is past the stream's retention; reading from its oldest record`);
      return this.iterator(shardId, undefined);
    }
  }

  private async iterator(shardId: string, sequenceNumber: string | undefined): Promise<string | undefined> {
    const { ShardIterator } = await this.options.streams.send(
      new GetShardIteratorCommand({
        StreamArn: this.options.streamArn,
        ShardId: shardId,
        ...(sequenceNumber
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: sequenceNumber }
          : { ShardIteratorType: this.options.settings.source.StartingPosition }),
      }),
      { abortSignal: this.signal },
    );
    return ShardIterator;
  }

  /** Enrich, publish, dead-letter what keeps failing, and only then checkpoint. Throws when stopping mid-way. */
  private async flush(shardId: string, batch: PendingRecord[], checkpointTo: PendingRecord): Promise<void> {
    const envelopes = await this.enrichWithRetries(batch.map((pending) => pending.record), 0);
    const { failed } = await this.options.publisher.publish(envelopes, this.signal);
    if (failed.length > 0) {
      await this.options.deadLetters.send(
        failed.map(({ envelope, reason }) =>
          this.letter(reason, envelope, { eventId: envelope.eventId, aggregateId: envelope.aggregateId, version: envelope.version, sequenceNumber: envelope.metadata?.sequenceNumber }),
        ),
      );
      this.log(`[pipe] ${failed.length} record(s) could not be put into Kinesis and were dead-lettered`);
    }
    if (this.signal.aborted) throw new Stopping('stopped before the checkpoint');
    this.checkpoint(shardId, checkpointTo);
  }

  /**
   * As the Pipe does with AUTOMATIC_BISECT: a failed enrichment is retried in halves, up to MaximumRetryAttempts
   * for each part; a part that still fails is dead-lettered record by record, with the error as the reason.
   */
  private async enrichWithRetries(records: Record<string, unknown>[], attempt: number): Promise<EventEnvelope[]> {
    if (this.signal.aborted) throw new Stopping('stopping');
    try {
      return await this.options.enrich(records);
    } catch (error) {
      const reason = `enrichment failed: ${(error as Error).name}: ${(error as Error).message}`;
      if (attempt >= this.options.settings.source.MaximumRetryAttempts) {
        await this.options.deadLetters.send(records.map((record) => this.letter(`${reason} (after ${attempt + 1} attempts)`, record, idsOf(record))));
        this.log(`[pipe] ${records.length} stream record(s) dead-lettered: ${reason}`);
        return [];
      }
      const base = this.options.retryBaseDelayMs ?? 100;
      await abortableSleep(Math.random() * Math.min(5_000, base * 2 ** attempt), this.signal).catch(() => {
        throw new Stopping('stopping');
      });
      if (records.length === 1) return this.enrichWithRetries(records, attempt + 1);
      const middle = Math.ceil(records.length / 2);
      const first = await this.enrichWithRetries(records.slice(0, middle), attempt + 1);
      const second = await this.enrichWithRetries(records.slice(middle), attempt + 1);
      return [...first, ...second];
    }
  }

  private checkpoint(shardId: string, to: PendingRecord): void {
    const position = (this.state.shards[shardId] ??= {});
    position.sequenceNumber = to.sequenceNumber;
    if (to.at !== undefined) position.lastRecordAt = to.at;
    this.options.positions.save(this.state);
  }

  private letter(reason: string, payload: unknown, ids: Record<string, unknown>): DeadLetter {
    return { source: PIPE_DEAD_LETTER_SOURCE, reason, failedAt: new Date(this.now()).toISOString(), ids, payload };
  }
}

function idsOf(record: Record<string, unknown>): Record<string, unknown> {
  const dynamodb = record.dynamodb as { Keys?: unknown; SequenceNumber?: unknown } | undefined;
  return { eventID: record.eventID, keys: dynamodb?.Keys, sequenceNumber: dynamodb?.SequenceNumber };
}
