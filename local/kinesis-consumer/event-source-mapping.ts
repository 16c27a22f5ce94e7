import { setMaxListeners } from 'node:events';
import { DescribeStreamSummaryCommand, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse } from 'aws-lambda';
import type { DeadLetterQueue } from '../../application/dead-letters';
import type { KinesisConsumerSettings } from '../../lambdas/consumers';
import { invokeLocal, type AnyHandler } from '../lambda/invoke';
import { deliverBatch, type DeliverableRecord, type InvokeOutcome } from './delivery';
import type { ShardPositions } from './shard-positions';
import { ShardCheckpointTracker, laneOf, Wakeup } from './shard-lanes';
import { listShards, readyShards, ShardReader } from './shard-reader';
import { toKinesisStreamEvent, type StreamIdentity } from './stream-event';
import { abortableSleep } from '../../adapters/abortable-sleep';
import { Chaos } from '../chaos/chaos';
import { batchDeadLetter, isoOrUndefined } from '../on-failure-record';

/** Lambda refuses synchronous payloads over 6 MB; batches are cut below that. */
const MAX_PAYLOAD_BYTES = 5 * 1024 * 1024;
/** How often an idle shard is polled (AWS polls each shard about once a second; locally a little faster). */
export const IDLE_POLL_MS = 250;
const SHARD_DISCOVERY_MS = 5_000;
const READ_AHEAD_RECORDS = 1_000;

export interface EventSourceMappingOptions {
  readonly name: string;
  readonly settings: KinesisConsumerSettings;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly region: string;
  readonly positions: ShardPositions;
  readonly handler: AnyHandler;
  readonly deadLetters: DeadLetterQueue;
  readonly deadLetterSource: string;
  readonly log: (line: string) => void;
  /** Faults to inject (chaos mode); calm by default. */
  readonly chaos?: Chaos;
}

interface PendingRecord extends DeliverableRecord {
  readonly record: _Record;
  readonly bytes: number;
  /** When the mapping read it: the batching window counts from here. */
  readonly queuedAt: number;
}

/**
 * The local stand-in for one Lambda event source mapping on the Kinesis stream: one poller per shard (parents
 * before children), parallelizationFactor concurrent batches per shard (one partition key never in two at once),
 * batches by size, window and payload, invokes the registered handler with the Kinesis event
 * shape, and delivers with the mapping's retry, bisect and partial-batch rules (see delivery.ts). Positions
 * are checkpointed to a file after each delivered part, so a restart, even after kill -9, resumes where the last
 * checkpoint was: records after it are delivered again (at least once), none is skipped.
 */
export class LocalEventSourceMapping {
  private stopping = false;
  private readonly running = new Map<string, Promise<void>>();
  private discovery: Promise<void> | undefined;
  private readonly stopSignal = new AbortController();
  private streamArn = '';

  constructor(private readonly options: EventSourceMappingOptions) {
    // Every lane and reader of every shard waits on this one signal.
    setMaxListeners(0, this.stopSignal.signal);
  }

  async start(): Promise<void> {
    const { StreamDescriptionSummary } = await this.options.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: this.options.streamName }));
    this.streamArn = StreamDescriptionSummary?.StreamARN ?? `arn:aws:kinesis:${this.options.region}:000000000000:stream/${this.options.streamName}`;
    await this.discoverShards();
    this.discovery = (async () => {
      while (!this.stopping) {
        await this.sleep(SHARD_DISCOVERY_MS);
        if (!this.stopping) await this.discoverShards().catch((error: Error) => this.options.log(`shard discovery failed: ${error.message}`));
      }
    })();
  }

  /** Stops polling; an invocation in flight finishes and is checkpointed first. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    await Promise.all([...this.running.values(), this.discovery]);
  }

  private async discoverShards(): Promise<void> {
    const shards = await listShards(this.options.kinesis, this.options.streamName);
    for (const shard of readyShards(shards, (id) => this.options.positions.get(id).finished === true)) {
      const shardId = shard.ShardId!;
      if (this.running.has(shardId) || this.stopping) continue;
      this.running.set(
        shardId,
        this.pollShard(shardId).catch((error: Error) => {
          this.options.log(`shard ${shardId} poller stopped on an error: ${error.stack ?? error.message}`);
          this.running.delete(shardId); // picked up again by the next discovery
        }),
      );
    }
  }

  /**
   * One shard: a reader fills parallelizationFactor lanes (each partition key always in the same lane, see
   * shard-lanes.ts), each lane delivers its batches in order, and the shard is checkpointed only up to the first
   * record not yet handled by its lane. The reader stops reading ahead once READ_AHEAD_RECORDS (or two batches a
   * lane) are read and not yet checkpointed, so that one busy cart's lane does not stall the others at once.
   */
  private async pollShard(shardId: string): Promise<void> {
    const { settings, positions } = this.options;
    const reader = new ShardReader(this.options.kinesis, this.options.streamName, shardId, positions.get(shardId).sequenceNumber, settings.startingPosition);
    const identity: StreamIdentity = { streamArn: this.streamArn, shardId, region: this.options.region };
    const tracker = new ShardCheckpointTracker();
    const laneCount = Math.max(1, settings.parallelizationFactor);
    const lanes: PendingRecord[][] = Array.from({ length: laneCount }, () => []);
    const recordsQueued = new Wakeup();
    const recordsTaken = new Wakeup();
    const readAhead = Math.max(READ_AHEAD_RECORDS, 2 * settings.batchSize * laneCount);
    let closed = false;
    let stopped = false;
    // One lane failing stops the others before the poller ends: discovery restarts the shard from its checkpoint.
    let failure: Error | undefined;
    const halted = () => this.stopping || failure !== undefined;
    const guard = (loop: Promise<void>) =>
      loop.catch((error: Error) => {
        failure ??= error;
        this.stopSignalForShard(recordsQueued, recordsTaken);
      });

    const readLoop = async () => {
      while (!halted() && !closed) {
        const buffered = tracker.outstanding;
        if (buffered >= readAhead) {
          await recordsTaken.wait(IDLE_POLL_MS, this.stopSignal.signal);
          continue;
        }
        const read = await reader.read(readAhead - buffered);
        const queuedAt = Date.now();
        for (const record of read.records) {
          tracker.add(record.SequenceNumber!);
          lanes[laneOf(record.PartitionKey ?? '', laneCount)]!.push({
            record,
            sequenceNumber: record.SequenceNumber!,
            arrivalMs: record.ApproximateArrivalTimestamp?.getTime() ?? queuedAt,
            bytes: record.Data?.length ?? 0,
            queuedAt,
          });
        }
        closed = read.closed;
        recordsQueued.notify();
        if (read.records.length === 0 && !closed) await this.sleep(IDLE_POLL_MS);
      }
      recordsQueued.notify();
    };

    const laneLoop = async (queue: PendingRecord[]) => {
      while (!halted()) {
        const batch = await this.gather(queue, () => closed, recordsQueued, halted);
        if (batch.length === 0) {
          if (closed) return;
          continue;
        }
        recordsTaken.notify();
        let checkpointed = 0;
        const result = await deliverBatch(batch, settings, {
          invoke: (records) => this.invoke(records, identity),
          checkpoint: (record) => {
            const upTo = batch.indexOf(record) + 1;
            const moved = tracker.handle(batch.slice(checkpointed, upTo).map((r) => r.sequenceNumber));
            checkpointed = Math.max(checkpointed, upTo);
            if (moved) positions.checkpoint(shardId, moved);
          },
          discard: (records, reason, attempts) => this.discard(records, reason, attempts, identity),
          sleep: (ms) => this.sleep(ms),
          stopped: halted,
          now: Date.now,
        });
        if (result === 'stopped') {
          stopped = true;
          return;
        }
      }
    };

    await Promise.all([guard(readLoop()), ...lanes.map((queue) => guard(laneLoop(queue)))]);
    if (failure) throw failure;
    if (stopped || this.stopping || !closed || tracker.outstanding > 0) return;
    positions.finish(shardId);
    this.running.delete(shardId);
    await this.discoverShards();
  }

  /**
   * Takes the lane's next batch off its queue: up to batchSize records and 5 MB, waiting at most the batching
   * window (counted from when its first record was read) for a fuller one. Empty when nothing came in a poll's time.
   */
  private async gather(queue: PendingRecord[], closed: () => boolean, recordsQueued: Wakeup, halted: () => boolean): Promise<PendingRecord[]> {
    const { batchSize, maximumBatchingWindowInSeconds } = this.options.settings;
    while (!halted()) {
      if (queue.length === 0) {
        if (closed()) return [];
        await recordsQueued.wait(IDLE_POLL_MS, this.stopSignal.signal);
        if (queue.length === 0) return [];
        continue;
      }
      const waited = Date.now() - queue[0]!.queuedAt;
      const windowMs = maximumBatchingWindowInSeconds * 1000;
      if (queue.length < batchSize && waited < windowMs && !closed()) {
        await recordsQueued.wait(Math.min(IDLE_POLL_MS, windowMs - waited), this.stopSignal.signal);
        continue;
      }
      let bytes = 0;
      let cut = 0;
      while (cut < queue.length && cut < batchSize && (cut === 0 || bytes + queue[cut]!.bytes <= MAX_PAYLOAD_BYTES)) bytes += queue[cut++]!.bytes;
      return queue.splice(0, cut);
    }
    return [];
  }

  private async invoke(records: readonly PendingRecord[], identity: StreamIdentity): Promise<InvokeOutcome> {
    const event = toKinesisStreamEvent(
      records.map((r) => r.record),
      identity,
    );
    let response: KinesisStreamBatchResponse | undefined;
    try {
      response = await invokeLocal<KinesisStreamBatchResponse | undefined>(this.options.settings.lambda, event, this.options.handler);
    } catch (error) {
      return { kind: 'error', reason: `function error: ${(error as Error).message}` };
    }
    // A timeout after the handler did its work: Lambda counts a function error and delivers the records again.
    if ((this.options.chaos ?? Chaos.calm()).happens('consumer-redelivery')) return { kind: 'error', reason: 'Task timed out (chaos: consumer-redelivery)' };
    return invokeOutcome(
      response,
      records.map((r) => r.sequenceNumber),
    );
  }

  /** The on-failure destination: what AWS sends, the batch's shard and sequence range, not the records. */
  private async discard(records: readonly PendingRecord[], reason: string, attempts: number, identity: StreamIdentity): Promise<void> {
    const first = records[0]!;
    const last = records.at(-1)!;
    this.options.log(`${records.length} record(s) ${first.sequenceNumber}..${last.sequenceNumber} of ${identity.shardId} sent to the on-failure destination: ${reason}`);
    await this.options.deadLetters.send([
      batchDeadLetter({
        source: this.options.deadLetterSource,
        reason,
        condition: reason.startsWith('older than') ? 'RecordAgeExceeded' : 'RetryAttemptsExhausted',
        approximateInvokeCount: attempts,
        stream: 'kinesis',
        functionName: this.options.settings.lambda,
        batch: {
          shardId: identity.shardId,
          startSequenceNumber: first.sequenceNumber,
          endSequenceNumber: last.sequenceNumber,
          approximateArrivalOfFirstRecord: isoOrUndefined(first.arrivalMs)!,
          approximateArrivalOfLastRecord: isoOrUndefined(last.arrivalMs)!,
          batchSize: records.length,
          streamArn: identity.streamArn,
        },
      }),
    ]);
  }

  /** Wakes a shard's waiting loops so that they see it halted. */
  private stopSignalForShard(...wakeups: Wakeup[]): void {
    for (const wakeup of wakeups) wakeup.notify();
  }

  /** Resolves after ms, or at once when stop() is called. */
  private sleep(ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return abortableSleep(ms, this.stopSignal.signal).catch(() => undefined);
  }
}

/**
 * What a handler's response means to the mapping (Lambda developer guide, "Implementing partial batch responses"
 * for Kinesis): no failures = success; otherwise retry from the lowest failed sequence number. A response naming
 * a record that is not in the batch (or with an empty itemIdentifier) is treated as a function error: the whole
 * batch is retried.
 */
export function invokeOutcome(response: KinesisStreamBatchResponse | undefined | null, sequenceNumbers: readonly string[]): InvokeOutcome {
  const failures = response?.batchItemFailures ?? [];
  if (failures.length === 0) return { kind: 'ok' };
  const index = new Map(sequenceNumbers.map((sequenceNumber, i) => [sequenceNumber, i]));
  const indexes = failures.map((f) => (f.itemIdentifier ? index.get(f.itemIdentifier) : undefined));
  if (indexes.some((i) => i === undefined)) return { kind: 'error', reason: 'batchItemFailures named a record that is not in the batch' };
  const failedIndex = Math.min(...(indexes as number[]));
  return { kind: 'partial', failedIndex, reason: `the handler reported record ${sequenceNumbers[failedIndex]} as failed` };
}
