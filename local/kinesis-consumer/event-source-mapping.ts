import { DescribeStreamSummaryCommand, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse } from 'aws-lambda';
import type { DeadLetterQueue } from '../../application/dead-letters';
import type { KinesisConsumerSettings } from '../../lambdas/consumers';
import { invokeLocal, type AnyHandler } from '../lambda/invoke';
import { deliverBatch, type DeliverableRecord, type InvokeOutcome } from './delivery';
import type { ShardPositions } from './shard-positions';
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
}

/**
 * The local stand-in for one Lambda event source mapping on the Kinesis stream: one poller per shard (parents
 * before children), batches by size, window and payload, invokes the registered handler with the Kinesis event
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

  constructor(private readonly options: EventSourceMappingOptions) {}

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

  private async pollShard(shardId: string): Promise<void> {
    const { settings, positions } = this.options;
    const reader = new ShardReader(this.options.kinesis, this.options.streamName, shardId, positions.get(shardId).sequenceNumber, settings.startingPosition);
    const identity: StreamIdentity = { streamArn: this.streamArn, shardId, region: this.options.region };
    let carry: PendingRecord[] = [];
    while (!this.stopping) {
      const { batch, rest, closed } = await this.gather(reader, carry);
      carry = rest;
      if (batch.length > 0) {
        const result = await deliverBatch(batch, settings, {
          invoke: (records) => this.invoke(records, identity),
          checkpoint: (record) => positions.checkpoint(shardId, record.sequenceNumber),
          discard: (records, reason, attempts) => this.discard(records, reason, attempts, identity),
          sleep: (ms) => this.sleep(ms),
          stopped: () => this.stopping,
          now: Date.now,
        });
        if (result === 'stopped') return;
        continue;
      }
      if (closed && carry.length === 0) {
        positions.finish(shardId);
        this.running.delete(shardId);
        await this.discoverShards();
        return;
      }
      await this.sleep(IDLE_POLL_MS);
    }
  }

  /** Up to batchSize records and 5 MB, waiting at most the batching window once the first record is in. */
  private async gather(reader: ShardReader, carry: PendingRecord[]): Promise<{ batch: PendingRecord[]; rest: PendingRecord[]; closed: boolean }> {
    const { batchSize, maximumBatchingWindowInSeconds } = this.options.settings;
    const records = [...carry];
    let closed = false;
    let firstAt = records.length > 0 ? Date.now() : 0;
    while (!this.stopping && records.length < batchSize && !closed) {
      const read = await reader.read(batchSize - records.length);
      closed = read.closed;
      for (const record of read.records) {
        records.push({ record, sequenceNumber: record.SequenceNumber!, arrivalMs: record.ApproximateArrivalTimestamp?.getTime() ?? Date.now(), bytes: record.Data?.length ?? 0 });
      }
      if (records.length === 0) break;
      firstAt ||= Date.now();
      const waited = Date.now() - firstAt;
      if (waited >= maximumBatchingWindowInSeconds * 1000) break;
      if (read.records.length === 0) await this.sleep(Math.min(IDLE_POLL_MS, maximumBatchingWindowInSeconds * 1000 - waited));
    }
    let bytes = 0;
    let cut = 0;
    while (cut < records.length && (cut === 0 || bytes + records[cut]!.bytes <= MAX_PAYLOAD_BYTES)) bytes += records[cut++]!.bytes;
    return { batch: records.slice(0, cut), rest: records.slice(cut), closed };
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
