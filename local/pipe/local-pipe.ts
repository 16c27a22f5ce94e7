import { GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DeadLetterQueue } from '../../application/dead-letters';
import { abortableSleep } from '../../adapters/abortable-sleep';
import { EVENT_STORE_KEY } from '../../adapters/dynamodb/event-store-table';
import type { EventEnvelope } from '../../domain/events/envelope';
import type { CdcPipeSettings } from '../../lambdas/cdc-enrichment/pipe-settings';
import { MAX_ENVELOPES_PER_RESPONSE } from '../../lambdas/cdc-enrichment/output-limits';
import { Chaos } from '../chaos/chaos';
import { batchDeadLetter, isoOrUndefined, type FailureCondition } from '../on-failure-record';
import { compileFilters } from './event-pattern';
import type { PipeTarget } from './kinesis-target';
import type { PipePositions, PositionStore, ShardPosition } from './positions';
import { listShards, toPipeRecord } from './stream-source';

export const PIPE_DEAD_LETTER_SOURCE = 'pipe';

export interface LocalPipeOptions {
  readonly streams: DynamoDBStreamsClient;
  readonly streamArn: string;
  readonly settings: CdcPipeSettings;
  /** The enrichment Lambda, invoked as the Pipe invokes it: one batch of records in, envelopes out. */
  readonly enrich: (records: unknown[]) => Promise<EventEnvelope[]>;
  /** The Kinesis target (kinesis-target.ts): one call per enrichment response. */
  readonly target: PipeTarget;
  readonly deadLetters: DeadLetterQueue;
  readonly positions: PositionStore;
  readonly log?: (line: string) => void;
  /** DynamoDB Streams allows about 4 GetRecords a second per shard; Lambda and Pipes poll at that rate. */
  readonly pollIntervalMs?: number;
  readonly discoveryIntervalMs?: number;
  readonly retryBaseDelayMs?: number;
  readonly now?: () => number;
  /** Faults to inject (chaos mode); calm by default. */
  readonly chaos?: Chaos;
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
 * MaximumBatchingWindowInSeconds, calls the enrichment, puts its response into Kinesis, and only then moves the
 * shard's checkpoint. A crash loses nothing: what was not checkpointed is read again.
 *
 * Failures follow the EventBridge user guide, inconvenient parts included:
 * - "Pipes batching and concurrency", partial batch failure: when a batch target such as Kinesis takes only part
 *   of a batch, the retry goes "through the entire pipe, including re-invoking any configured enrichment". The
 *   source batch is enriched and put again, so records already stored are stored again (duplicates) and a
 *   refused record lands after later records of its cart (reordering).
 * - The same page: an enrichment response longer than the target's batch limit (500 for Kinesis) is not
 *   delivered: the invocation fails. Partial batch failure handling of the enrichment is not documented, so an
 *   enrichment error fails the whole batch too (no halving here; the enrichment keeps its response within
 *   the limits, see lambdas/cdc-enrichment/output-limits.ts).
 * - "Pipes error handling and troubleshooting": a failing batch is retried up to MaximumRetryAttempts, and a
 *   record older than MaximumRecordAgeInSeconds is not retried; either way the batch goes to the dead-letter
 *   queue as a description of the batch (shard, sequence range, arrival times), not as the records.
 */
export class LocalPipe {
  private readonly abort = new AbortController();
  private readonly workers = new Map<string, Promise<void>>();
  private readonly matchesFilter: (record: unknown) => boolean;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private readonly chaos: Chaos;
  private state!: PipePositions;
  private discovery?: Promise<void>;

  constructor(private readonly options: LocalPipeOptions) {
    this.matchesFilter = compileFilters(options.settings.filterPatterns);
    this.log = options.log ?? ((line) => console.log(line));
    this.now = options.now ?? Date.now;
    this.chaos = options.chaos ?? Chaos.calm();
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

      const expired: PendingRecord[] = [];
      for (const raw of records) {
        const record = toPipeRecord(raw, this.options.streamArn);
        const at = raw.dynamodb?.ApproximateCreationDateTime?.getTime();
        lastRead = { record, sequenceNumber: raw.dynamodb?.SequenceNumber ?? '', ...(at !== undefined ? { at } : {}) };
        if (at !== undefined && this.now() - at > MaximumRecordAgeInSeconds * 1_000) {
          expired.push(lastRead);
          continue;
        }
        if (!this.matchesFilter(record)) continue;
        if (pending.length === 0) windowStartedAt = this.now();
        pending.push(lastRead);
      }
      try {
        if (expired.length > 0) {
          await this.deadLetterBatch(shardId, expired, `older than MaximumRecordAgeInSeconds (${MaximumRecordAgeInSeconds} s) when read`, 'RecordAgeExceeded', 0);
          this.log(`[pipe] ${expired.length} stream record(s) of ${shardId} expired before they were read and went to the dead-letter queue`);
        }
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

  /**
   * Runs the batch through the whole pipe (enrichment, then target) until the target takes all of it, the
   * retries are spent or the batch is too old; then checkpoints. Throws when stopping mid-way.
   */
  private async flush(shardId: string, batch: PendingRecord[], checkpointTo: PendingRecord): Promise<void> {
    const { MaximumRetryAttempts, MaximumRecordAgeInSeconds } = this.options.settings.source;
    const records = this.inStreamOrderOrChaos(batch.map((pending) => pending.record));
    for (let attempt = 1; ; attempt++) {
      const failure = await this.deliver(records);
      if (failure === undefined) break;
      const oldest = batch[0]!.at;
      const expired = oldest !== undefined && this.now() - oldest > MaximumRecordAgeInSeconds * 1_000;
      if (expired || attempt > MaximumRetryAttempts) {
        const condition: FailureCondition = expired ? 'RecordAgeExceeded' : 'RetryAttemptsExhausted';
        await this.deadLetterBatch(shardId, batch, `${failure} (${condition} after ${attempt} attempt(s))`, condition, attempt);
        this.log(`[pipe] a batch of ${batch.length} stream record(s) of ${shardId} went to the dead-letter queue: ${failure}`);
        break;
      }
      const base = this.options.retryBaseDelayMs ?? 100;
      await abortableSleep(Math.random() * Math.min(5_000, base * 2 ** (attempt - 1)), this.signal).catch(() => {
        throw new Stopping('stopping');
      });
    }
    // Whole-batch redelivery after the target took it (the Pipe does not know it did, e.g. an internal error).
    if (this.chaos.happens('pipe-redelivery')) await this.deliver(records);
    if (this.signal.aborted) throw new Stopping('stopped before the checkpoint');
    this.checkpoint(shardId, checkpointTo);
  }

  /** One pass through the pipe: the reason it failed, or undefined when the target took the whole response. */
  private async deliver(records: Record<string, unknown>[]): Promise<string | undefined> {
    if (this.signal.aborted) throw new Stopping('stopping');
    let envelopes: EventEnvelope[];
    try {
      envelopes = await this.options.enrich(records);
    } catch (error) {
      if (this.signal.aborted) throw new Stopping('stopping');
      return `enrichment failed: ${(error as Error).name}: ${(error as Error).message}`;
    }
    if (envelopes.length > MAX_ENVELOPES_PER_RESPONSE) {
      return `the enrichment returned ${envelopes.length} elements; a Kinesis target takes at most ${MAX_ENVELOPES_PER_RESPONSE}, so it was not invoked`;
    }
    const { refused, reason } = await this.options.target(envelopes, this.signal);
    if (this.signal.aborted) throw new Stopping('stopping');
    return refused > 0 ? `Kinesis refused ${refused} of ${envelopes.length} record(s): ${reason ?? 'unknown'}` : undefined;
  }

  /**
   * Stream order, unless the chaos fault `stream-reorder` hands a cart's records over out of version order, as
   * DynamoDB Streams may for items of one transaction or across shards (aws/aws-sdk-net#1601; order is
   * guaranteed per item only).
   */
  private inStreamOrderOrChaos(records: Record<string, unknown>[]): Record<string, unknown>[] {
    const carts = records.map(cartKeyOf);
    const someCartTwice = new Set(carts).size < carts.filter((key) => key !== undefined).length;
    if (!someCartTwice || !this.chaos.happens('stream-reorder')) return records;
    return records.slice().reverse();
  }

  private async deadLetterBatch(shardId: string, batch: PendingRecord[], reason: string, condition: FailureCondition, attempts: number): Promise<void> {
    await this.options.deadLetters.send([
      batchDeadLetter({
        source: PIPE_DEAD_LETTER_SOURCE,
        reason,
        condition,
        approximateInvokeCount: attempts,
        stream: 'dynamodb',
        now: new Date(this.now()),
        batch: {
          shardId,
          startSequenceNumber: batch[0]!.sequenceNumber,
          endSequenceNumber: batch.at(-1)!.sequenceNumber,
          ...optional('approximateArrivalOfFirstRecord', isoOrUndefined(batch[0]!.at)),
          ...optional('approximateArrivalOfLastRecord', isoOrUndefined(batch.at(-1)!.at)),
          batchSize: batch.length,
          streamArn: this.options.streamArn,
        },
      }),
    ]);
  }

  private checkpoint(shardId: string, to: PendingRecord): void {
    const position = (this.state.shards[shardId] ??= {});
    position.sequenceNumber = to.sequenceNumber;
    if (to.at !== undefined) position.lastRecordAt = to.at;
    this.options.positions.save(this.state);
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

/** The cart a stream record belongs to (the event store's partition key), for the reorder fault. */
function cartKeyOf(record: Record<string, unknown>): string | undefined {
  const keys = (record.dynamodb as { Keys?: Record<string, { S?: string }> } | undefined)?.Keys;
  return keys?.[EVENT_STORE_KEY.partitionKey]?.S ?? keys?.Uuid?.S;
}
