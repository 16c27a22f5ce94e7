import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Shard, _Record } from '@aws-sdk/client-kinesis';
import { archiveObjectKey } from '../../application/replay-window';
import { Chaos } from '../chaos/chaos';
import { ShardPositions, writeFileDurably } from '../kinesis-consumer/shard-positions';
import { compareSequenceNumbers, readyShards, type ShardRead } from '../kinesis-consumer/shard-reader';
import { abortableSleep } from '../../adapters/abortable-sleep';

/** What the archiver reads and writes through: Kinesis shards, the S3 bucket, the dead-letter store. */
export interface ArchiverPorts {
  listShards(): Promise<Shard[]>;
  /** A reader of the shard from AFTER the sequence number (from TRIM_HORIZON when undefined). */
  openShard(shardId: string, after: string | undefined): { read(limit: number): Promise<ShardRead> };
  putObject(key: string, body: string): Promise<void>;
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
  /** Faults to inject (chaos mode); calm by default. */
  readonly chaos?: Chaos;
}

/** An object about to be written: enough to write it again, identically keyed, after a crash. */
interface Intent {
  readonly key: string;
  /** Per shard: the records after `after` up to and including `through` are the object's content. */
  readonly ranges: Record<string, { readonly after?: string; readonly through: string }>;
}

interface PendingObject {
  lines: string[];
  /** Lines of a second object that straddles an hour boundary (chaos: archive-arrival-hour-key). */
  straddling: string[];
  bytes: number;
  /** When the archiver read the buffer's first record: the buffering interval runs from then. */
  firstReadAt: number;
  /** Approximate arrival time (epoch ms) of the oldest record: the object's key hour, as Firehose keys it. */
  oldestArrival: number;
  ranges: Map<string, { after?: string; through: string }>;
}

const READ_LIMIT = 1_000;
const IDLE_POLL_MS = 250;
const SHARD_DISCOVERY_MS = 5_000;

/**
 * The local stand-in for Firehose: reads every shard of the stream and writes objects of the records' data, one
 * per line, to the archive bucket under events/YYYY/MM/DD/HH/. It behaves as Firehose is documented to, the
 * inconvenient parts included (Amazon Data Firehose developer guide):
 * - at-least-once delivery ("Data delivery ... duplicates"): a record may be written more than once;
 * - no validation without a transformation Lambda: whatever reaches the stream is archived as it is, lines that
 *   are not event envelopes and copies a replay republished (metadata.replayed) included;
 * - the hour prefix is the UTC hour of the approximate arrival time of the OLDEST record in the object
 *   ("Configure Amazon S3 object name format"), so an object can hold records that arrived in the next hour.
 * Readers of the archive (replay, backfill) must therefore tolerate duplicates, replayed copies and junk lines.
 *
 * Nothing read is lost across a crash, even kill -9: before an object is written, an intent (its key and, per
 * shard, the sequence range it holds) is stored durably; the checkpoint moves only after the PUT succeeded. A
 * restart that finds an intent reads the same ranges again and PUTs them under the same key.
 */
export class LocalArchiver {
  private readonly positions: ShardPositions;
  private readonly readers = new Map<string, { read(limit: number): Promise<ShardRead> }>();
  private readonly closedShards = new Set<string>();
  private buffer: PendingObject = emptyBuffer();
  private frozen: { intent: Intent; body: string; lines: number; straddling?: { key: string; body: string } } | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private lastDiscovery = 0;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly chaos: Chaos;
  private readonly stopSignal = new AbortController();

  constructor(
    private readonly ports: ArchiverPorts,
    private readonly options: ArchiverOptions,
  ) {
    this.positions = new ShardPositions(join(options.stateDir, 'positions.json'));
    this.now = options.now ?? Date.now;
    this.log = options.log ?? (() => undefined);
    this.chaos = options.chaos ?? Chaos.calm();
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
    return this.buffer.bytes >= this.options.maxBufferBytes || this.now() - this.buffer.firstReadAt >= this.options.flushIntervalMs;
  }

  private add(shardId: string, record: _Record): void {
    const sequenceNumber = record.SequenceNumber!;
    const buffer = this.buffer;
    const arrival = record.ApproximateArrivalTimestamp?.getTime() ?? this.now();
    if (buffer.ranges.size === 0) buffer.firstReadAt = this.now();
    if (buffer.ranges.size === 0 || arrival < buffer.oldestArrival) buffer.oldestArrival = arrival;
    const range = buffer.ranges.get(shardId);
    const after = range ? range.after : this.positions.get(shardId).sequenceNumber;
    buffer.ranges.set(shardId, after === undefined ? { through: sequenceNumber } : { after, through: sequenceNumber });
    const line = archiveLine(record);
    if (this.chaos.happens('archive-arrival-hour-key')) buffer.straddling.push(line);
    else buffer.lines.push(line);
    buffer.bytes += line.length;
    if (this.chaos.happens('archive-duplicate')) buffer.lines.push(line);
    const replayedCopy = this.chaos.enabled ? asReplayedCopy(line) : undefined;
    if (replayedCopy && this.chaos.happens('archive-replayed-copy')) buffer.lines.push(replayedCopy);
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
      const intent: Intent = { key: objectKey(buffer.oldestArrival, ranges), ranges };
      if (buffer.lines.length > 0 && this.chaos.happens('archive-junk-line')) buffer.lines.splice(this.chaos.pick(buffer.lines.length + 1), 0, junkLine(this.chaos));
      writeFileDurably(this.intentFile(), JSON.stringify(intent));
      // An object opened just before an hour boundary: its later records sit under the hour of its oldest one.
      const straddling = buffer.straddling.length > 0 ? { key: objectKey(buffer.oldestArrival - 3_600_000, ranges, 'straddling'), body: buffer.straddling.join('') } : undefined;
      this.frozen = { intent, body: buffer.lines.join(''), lines: buffer.lines.length, ...(straddling ? { straddling } : {}) };
      this.buffer = emptyBuffer();
    }
    const { intent, body, lines, straddling } = this.frozen;
    if (lines > 0) {
      await this.ports.putObject(intent.key, body);
      this.options.logActivity?.(`archived ${lines} line(s) to ${intent.key}`);
    }
    if (straddling) await this.ports.putObject(straddling.key, straddling.body);
    this.commit(intent.ranges);
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
          lines.push(archiveLine(record));
          if (record.SequenceNumber === range.through) reached = true;
        }
      }
      if (!reached) throw new Error(`recovering ${intent.key}: shard ${shardId} no longer holds records up to ${range.through}`);
    }
    if (lines.length > 0) await this.ports.putObject(intent.key, lines.join(''));
    this.commit(intent.ranges);
    this.log(`recovered interrupted object ${intent.key} (${lines.length} line(s))`);
  }

  private async discoverShards(): Promise<void> {
    this.lastDiscovery = this.now();
    const shards = await this.ports.listShards();
    for (const shard of readyShards(shards, (id) => this.positions.get(id).finished === true)) {
      const shardId = shard.ShardId!;
      if (!this.readers.has(shardId)) this.readers.set(shardId, this.ports.openShard(shardId, this.positions.get(shardId).sequenceNumber));
    }
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
  return { lines: [], straddling: [], bytes: 0, firstReadAt: 0, oldestArrival: 0, ranges: new Map() };
}

/** One archive line: the record's data as it is, plus the newline Firehose's AppendDelimiterToRecord processor adds. */
function archiveLine(record: _Record): string {
  return `${Buffer.from(record.Data ?? new Uint8Array()).toString('utf8')}\n`;
}

/** The copy a replay would have republished: the same event flagged metadata.replayed. */
function asReplayedCopy(line: string): string | undefined {
  try {
    const json = JSON.parse(line) as { metadata?: Record<string, unknown> };
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
    return `${JSON.stringify({ ...json, metadata: { ...json.metadata, replayed: true } })}\n`;
  } catch {
    return undefined;
  }
}

const JUNK_LINES = ['not json at all', '{"hello":"world"}', '{"eventId":42,"aggregateId":null}', '[1,2,3]', '{"truncated":'];

/** A line that is not an event envelope, of the kinds anything writing to the stream could produce. */
function junkLine(chaos: Chaos): string {
  return `${JUNK_LINES[chaos.pick(JUNK_LINES.length)]}\n`;
}

/** `events/YYYY/MM/DD/HH/cart-events-YYYY-MM-DD-HH-mm-ss-<digest of the ranges>.jsonl`: Firehose's naming, with a deterministic suffix. */
function objectKey(arrival: number, ranges: Intent['ranges'], variant = ''): string {
  const stamp = new Date(arrival).toISOString().slice(0, 19).replace(/[T:]/g, '-');
  const digest = createHash('sha256').update(JSON.stringify(Object.entries(ranges).sort()) + variant).digest('hex').slice(0, 16);
  return archiveObjectKey(arrival, `cart-events-${stamp}-${digest}.jsonl`);
}
