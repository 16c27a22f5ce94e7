import { abortableSleep } from '../abortable-sleep';
import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { EventEnvelope } from '../../domain/events/envelope';

/** PutRecords limits: 500 records and 5 MiB (data plus partition keys) per call. */
const MAX_RECORDS_PER_CALL = 500;
const MAX_BYTES_PER_CALL = 5 * 1024 * 1024;

export interface PublisherOptions {
  /** Attempts per record before it is given up (and handed back as failed). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface FailedRecord {
  readonly envelope: EventEnvelope;
  readonly attempts: number;
  readonly reason: string;
}

export interface PublishResult {
  readonly published: number;
  /** Records that kept failing: the caller dead-letters them. */
  readonly failed: readonly FailedRecord[];
  readonly calls: number;
}

interface Pending {
  readonly envelope: EventEnvelope;
  readonly entry: PutRecordsRequestEntry;
  readonly bytes: number;
  attempts: number;
  lastError: string;
}

/**
 * Publishes envelopes to Kinesis as the Pipe's Kinesis target does: one record per envelope, Data = the envelope
 * as UTF-8 JSON, PartitionKey = aggregateId.
 *
 * Order per cart survives partial failures: PutRecords can fail record 1 of a cart and store record 2, so each
 * call carries at most ONE pending record per cart (the oldest), and a cart's next record goes out only once the
 * one before it is stored (or given up). Only failed records are retried; throttling and other failures back
 * off exponentially with full jitter.
 */
export class KinesisEventPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    options: PublisherOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 10;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.sleep = options.sleep ?? abortableSleep;
  }

  async publish(envelopes: readonly EventEnvelope[], signal?: AbortSignal): Promise<PublishResult> {
    const queues = new Map<string, Pending[]>();
    for (const envelope of envelopes) {
      const data = Buffer.from(JSON.stringify(envelope), 'utf8');
      const pending: Pending = {
        envelope,
        entry: { Data: data, PartitionKey: envelope.aggregateId },
        bytes: data.length + Buffer.byteLength(envelope.aggregateId),
        attempts: 0,
        lastError: '',
      };
      const queue = queues.get(envelope.aggregateId);
      if (queue) queue.push(pending);
      else queues.set(envelope.aggregateId, [pending]);
    }

    const failed: FailedRecord[] = [];
    let published = 0;
    let calls = 0;
    let failedRounds = 0;
    while (queues.size > 0) {
      signal?.throwIfAborted();
      const wave = [...queues.values()].map((queue) => queue[0]!);
      const outcomes = await Promise.all(chunks(wave).map((chunk) => this.put(chunk)));
      calls += outcomes.length;
      let anyFailed = false;
      for (const { pending, error } of outcomes.flat()) {
        const queue = queues.get(pending.envelope.aggregateId)!;
        pending.attempts += 1;
        if (error === undefined) {
          published += 1;
          queue.shift();
        } else {
          anyFailed = true;
          pending.lastError = error;
          if (pending.attempts >= this.maxAttempts) {
            failed.push({ envelope: pending.envelope, attempts: pending.attempts, reason: `PutRecords failed ${pending.attempts} times: ${error}` });
            queue.shift();
          }
        }
        if (queue.length === 0) queues.delete(pending.envelope.aggregateId);
      }
      if (anyFailed && queues.size > 0) {
        failedRounds += 1;
        const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (failedRounds - 1));
        await this.sleep(Math.random() * ceiling, signal);
      } else if (!anyFailed) {
        failedRounds = 0;
      }
    }
    return { published, failed, calls };
  }

  /** One PutRecords; a call that fails as a whole fails each of its records with the call's error. */
  private async put(chunk: Pending[]): Promise<{ pending: Pending; error?: string }[]> {
    try {
      const result = await this.kinesis.send(new PutRecordsCommand({ StreamName: this.streamName, Records: chunk.map((p) => p.entry) }));
      const records = result.Records ?? [];
      return chunk.map((pending, index) => {
        const outcome = records[index];
        if (outcome && !outcome.ErrorCode && outcome.SequenceNumber) return { pending };
        return { pending, error: outcome?.ErrorCode ? `${outcome.ErrorCode}: ${outcome.ErrorMessage ?? ''}`.trim() : 'no result for the record' };
      });
    } catch (error) {
      const reason = `${(error as Error).name}: ${(error as Error).message}`;
      return chunk.map((pending) => ({ pending, error: reason }));
    }
  }
}

function chunks(wave: Pending[]): Pending[][] {
  const result: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const pending of wave) {
    if (current.length === MAX_RECORDS_PER_CALL || (current.length > 0 && bytes + pending.bytes > MAX_BYTES_PER_CALL)) {
      result.push(current);
      current = [];
      bytes = 0;
    }
    current.push(pending);
    bytes += pending.bytes;
  }
  if (current.length > 0) result.push(current);
  return result;
}
