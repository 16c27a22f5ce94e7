import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Shard, _Record } from '@aws-sdk/client-kinesis';
import type { DeadLetter } from '../../application/dead-letters';
import { archiveObjectKey } from '../../application/replay-window';
import { EventEnvelope } from '../../domain/events';
import { ShardPositions, writeFileDurably } from '../kinesis-consumer/shard-positions';
import { compareSequenceNumbers, readyShards, type ShardRead } from '../kinesis-consumer/shard-reader';
import { abortableSleep } from '../../adapters/abortable-sleep';

/** What the archiver reads and writes through: Kinesis shards, the S3 bucket, the dead-letter store. */
export interface ArchiverPorts {
  listShards(): Promise<Shard[]>;
  /** A reader of the shard from AFTER the sequence number (from TRIM_HORIZON when undefined). */
  openShard(shardId: string, after: string | undefined): { read(limit: number): Promise<ShardRead> };
  putObject(key: string, body: string): Promise<void>;
  deadLetter(letters: DeadLetter[]): Promise<void>;
}

export interface ArchiverOptions {
  /** Folder of the archiver's own state: positions.json and intent.json. */
  readonly stateDir: string;
  /** Flush when the oldest buffered record has waited this long (the issue asks for at most 5 s). */
  readonly flushIntervalMs: number;
  /** Flush when the buffer holds this many bytes (Firehose's default buffer size is 5 MiB). */
  readonly maxBufferBytes: number;
  readonly now?: () => number;
  /** What needs attention: failed passes, recovered objects. */
  readonly log?: (line: string) => void;
  /** Routine activity: each object written. */
  readonly logActivity?: (line: string) => void;
}

/** An object about to be written: enough to write it again, identically keyed, after a crash. */
interface Intent {
  readonly key: string;
  /** Per shard: the records after `after` up to and including `through` are the object's content. */
  readonly ranges: Record<string, { readonly after?: string; readonly through: string }>;
}

interface PendingObject {
  lines: string[];
  bytes: number;
  firstReceivedAt: number;
  ranges: Map<string, { after?: string; through: string }>;
  eventIds: Set<string>;
  deadLetters: DeadLetter[];
}

const READ_LIMIT = 1_000;
const IDLE_POLL_MS = 250;
const SHARD_DISCOVERY_MS = 5_000;
const RECENT_EVENT_IDS = 100_000;

/**
 * The local stand-in for Firehose: reads every shard of the stream and writes JSON Lines objects to the archive
 * bucket under events/YYYY/MM/DD/HH/ (UTC hour in which the object's oldest record reached the archiver).
 *
 * Exactly once per object, even across kill -9: before an object is written, an intent (its key and, per shard,
 * the sequence range it holds) is stored durably; the checkpoint moves only after the PUT succeeded, then the
 * intent is removed. A restart that finds an intent reads the same ranges again and PUTs them under the SAME
 * key (an idempotent overwrite), so a re-delivered batch never becomes a second object. Records after the
 * checkpoint and outside an intent were never written anywhere, so reading them again duplicates nothing.
 *
 * Skipped, never archived: events flagged metadata.replayed (copies of archived history that a replay
 * republished), an eventId seen in the last 100,000 archived (a re-sent duplicate), and records that are not an
 * event envelope (those go to the dead-letter store with the reason).
 */
export class LocalArchiver {
  private readonly positions: ShardPositions;
  private readonly readers = new Map<string, { read(limit: number): Promise<ShardRead> }>();
  private readonly closedShards = new Set<string>();
  private readonly recentEventIds = new Set<string>();
  private buffer: PendingObject = emptyBuffer();
  private frozen: { intent: Intent; body: string; events: number; eventIds: Set<string>; deadLetters: DeadLetter[] } | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private lastDiscovery = 0;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly stopSignal = new AbortController();

  constructor(
    private readonly ports: ArchiverPorts,
    private readonly options: ArchiverOptions,
  ) {
    this.positions = new ShardPositions(join(options.stateDir, 'positions.json'));
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
  }

  /** Finishes an interrupted write first, then archives continuously. */
  async start(): Promise<void> {
    await this.open();
    this.loop = this.run();
  }

  /** Finishes an interrupted write and finds the shards, without polling (tests and the benchmark poll). */
  async open(): Promise<void> {
    await this.recover();
    await this.discoverShards();
  }

  /** Stops reading and flushes what is buffered: everything read is archived and checkpointed before it resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    await this.loop;
    await this.flush();
  }

  /** One pass over every shard, flushing when the buffer is due; exposed for tests and the benchmark. */
  async poll(): Promise<number> {
    if (this.frozen) await this.flush();
    if (this.now() - this.lastDiscovery >= SHARD_DISCOVERY_MS) await this.discoverShards();
    let read = 0;
    for (const [shardId, reader] of this.readers) {
      const result = await reader.read(READ_LIMIT);
      for (const record of result.records) this.add(shardId, record);
      read += result.records.length;
      if (result.closed) {
        if (this.buffer.ranges.has(shardId)) this.closedShards.add(shardId);
        else this.finishShard(shardId);
      }
    }
    if (this.isDue()) await this.flush();
    return read;
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        if ((await this.poll()) === 0) await this.sleep(IDLE_POLL_MS);
      } catch (error) {
        this.log(`archive pass failed, retrying: ${(error as Error).message}`);
        await this.sleep(1_000);
      }
    }
  }

  private isDue(): boolean {
    if (this.buffer.ranges.size === 0) return false;
    return this.buffer.bytes >= this.options.maxBufferBytes || this.now() - this.buffer.firstReceivedAt >= this.options.flushIntervalMs;
  }

  private add(shardId: string, record: _Record): void {
    const sequenceNumber = record.SequenceNumber!;
    const buffer = this.buffer;
    if (buffer.ranges.size === 0) buffer.firstReceivedAt = this.now();
    const range = buffer.ranges.get(shardId);
    const after = range ? range.after : this.positions.get(shardId).sequenceNumber;
    buffer.ranges.set(shardId, after === undefined ? { through: sequenceNumber } : { after, through: sequenceNumber });
    const verdict = archiveLine(record);
    if (verdict.kind === 'malformed') {
      buffer.deadLetters.push({
        source: 'archiver',
        reason: verdict.reason,
        failedAt: new Date(this.now()).toISOString(),
        ids: { shardId, sequenceNumber, partitionKey: record.PartitionKey },
        payload: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      });
      return;
    }
    if (verdict.kind === 'skip' || buffer.eventIds.has(verdict.eventId) || this.recentEventIds.has(verdict.eventId)) return;
    buffer.eventIds.add(verdict.eventId);
    buffer.lines.push(verdict.line);
    buffer.bytes += verdict.line.length;
  }

  /**
   * Freezes the buffer into an object (intent stored first), writes it, then checkpoints. If the write fails,
   * the frozen object stays and is retried as it is, same key and content, before anything new is read.
   */
  private async flush(): Promise<void> {
    if (!this.frozen) {
      const buffer = this.buffer;
      if (buffer.ranges.size === 0) return;
      const ranges = Object.fromEntries(buffer.ranges);
      const intent: Intent = { key: objectKey(buffer.firstReceivedAt, ranges), ranges };
      if (buffer.lines.length > 0) writeFileDurably(this.intentFile(), JSON.stringify(intent));
      this.frozen = { intent, body: buffer.lines.join(''), events: buffer.lines.length, eventIds: buffer.eventIds, deadLetters: buffer.deadLetters };
      this.buffer = emptyBuffer();
    }
    const { intent, body, events, eventIds, deadLetters } = this.frozen;
    if (events > 0) {
      await this.ports.putObject(intent.key, body);
      this.options.logActivity?.(`archived ${events} event(s) to ${intent.key}`);
    }
    if (deadLetters.length > 0) await this.ports.deadLetter(deadLetters);
    this.commit(intent.ranges);
    for (const id of eventIds) this.rememberEventId(id);
    this.frozen = undefined;
  }

  private commit(ranges: Intent['ranges']): void {
    this.positions.checkpointAll(Object.fromEntries(Object.entries(ranges).map(([shardId, range]) => [shardId, range.through])));
    rmSync(this.intentFile(), { force: true });
    for (const shardId of this.closedShards) this.finishShard(shardId);
    this.closedShards.clear();
  }

  /** Every record of a closed shard is archived: its children may start (at the next discovery). */
  private finishShard(shardId: string): void {
    this.positions.finish(shardId);
    this.readers.delete(shardId);
    this.lastDiscovery = 0;
  }

  /** An intent left by a crash: write the same ranges under the same key, then checkpoint them. */
  private async recover(): Promise<void> {
    let intent: Intent;
    try {
      intent = JSON.parse(readFileSync(this.intentFile(), 'utf8')) as Intent;
    } catch {
      return;
    }
    const lines: string[] = [];
    const seen = new Set<string>();
    for (const [shardId, range] of Object.entries(intent.ranges)) {
      const reader = this.ports.openShard(shardId, range.after);
      let reached = false;
      for (let empty = 0; !reached && empty < 50; ) {
        const { records, closed } = await reader.read(READ_LIMIT);
        if (records.length === 0) {
          if (closed) break;
          empty++;
          await new Promise((resolve) => setTimeout(resolve, 20));
          continue;
        }
        for (const record of records) {
          if (compareSequenceNumbers(record.SequenceNumber!, range.through) > 0) {
            reached = true;
            break;
          }
          const verdict = archiveLine(record);
          if (verdict.kind === 'line' && !seen.has(verdict.eventId)) {
            seen.add(verdict.eventId);
            lines.push(verdict.line);
          }
          if (record.SequenceNumber === range.through) reached = true;
        }
      }
      if (!reached) throw new Error(`recovering ${intent.key}: shard ${shardId} no longer holds records up to ${range.through}`);
    }
    if (lines.length > 0) await this.ports.putObject(intent.key, lines.join(''));
    for (const id of seen) this.rememberEventId(id);
    this.commit(intent.ranges);
    this.log(`recovered interrupted object ${intent.key} (${lines.length} event(s))`);
  }

  private async discoverShards(): Promise<void> {
    this.lastDiscovery = this.now();
    const shards = await this.ports.listShards();
    for (const shard of readyShards(shards, (id) => this.positions.get(id).finished === true)) {
      const shardId = shard.ShardId!;
      if (!this.readers.has(shardId)) this.readers.set(shardId, this.ports.openShard(shardId, this.positions.get(shardId).sequenceNumber));
    }
  }

  private rememberEventId(id: string): void {
    this.recentEventIds.add(id);
    if (this.recentEventIds.size > RECENT_EVENT_IDS) this.recentEventIds.delete(this.recentEventIds.values().next().value!);
  }

  private intentFile(): string {
    return join(this.options.stateDir, 'intent.json');
  }

  /** Resolves after ms, or at once when stop() is called. */
  private sleep(ms: number): Promise<void> {
    if (this.stopping) return Promise.resolve();
    return abortableSleep(ms, this.stopSignal.signal).catch(() => undefined);
  }
}

function emptyBuffer(): PendingObject {
  return { lines: [], bytes: 0, firstReceivedAt: 0, ranges: new Map(), eventIds: new Set(), deadLetters: [] };
}

type Verdict = { kind: 'line'; line: string; eventId: string } | { kind: 'skip' } | { kind: 'malformed'; reason: string };

/** One archive line: the record's JSON on one line plus '\n' (all fields kept, whitespace dropped). */
function archiveLine(record: _Record): Verdict {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(record.Data ?? new Uint8Array()).toString('utf8'));
  } catch (error) {
    return { kind: 'malformed', reason: `record data is not JSON: ${(error as Error).message}` };
  }
  const envelope = EventEnvelope.safeParse(json);
  if (!envelope.success) return { kind: 'malformed', reason: `record data is not an event envelope: ${envelope.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  if (envelope.data.metadata?.replayed === true) return { kind: 'skip' };
  return { kind: 'line', line: `${JSON.stringify(json)}\n`, eventId: envelope.data.eventId };
}

/** `events/YYYY/MM/DD/HH/cart-events-YYYY-MM-DD-HH-mm-ss-<digest of the ranges>.jsonl`: Firehose's naming, with a deterministic suffix. */
function objectKey(receivedAt: number, ranges: Intent['ranges']): string {
  const stamp = new Date(receivedAt).toISOString().slice(0, 19).replace(/[T:]/g, '-');
  const digest = createHash('sha256').update(JSON.stringify(Object.entries(ranges).sort())).digest('hex').slice(0, 16);
  return archiveObjectKey(receivedAt, `cart-events-${stamp}-${digest}.jsonl`);
}
