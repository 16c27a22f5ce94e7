import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ShardPosition {
  /** The last sequence number fully handled: reading resumes AFTER it. */
  readonly sequenceNumber?: string;
  /** The shard is closed (resharding) and every record of it was handled: its children may start. */
  readonly finished?: boolean;
}

/**
 * A consumer's positions in the stream, one per shard, in one JSON file that is replaced atomically (write,
 * fsync, rename) on every checkpoint: after a crash, even kill -9, the file holds the last checkpoint whole.
 */
export class ShardPositions {
  private positions: Record<string, ShardPosition>;

  constructor(readonly file: string) {
    try {
      this.positions = JSON.parse(readFileSync(file, 'utf8')) as Record<string, ShardPosition>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read shard positions ${file}: ${(error as Error).message}`);
      this.positions = {};
    }
  }

  get(shardId: string): ShardPosition {
    return this.positions[shardId] ?? {};
  }

  all(): Readonly<Record<string, ShardPosition>> {
    return this.positions;
  }

  checkpoint(shardId: string, sequenceNumber: string): void {
    this.positions = { ...this.positions, [shardId]: { ...this.get(shardId), sequenceNumber } };
    this.persist();
  }

  /** Several shards at once, in one durable write. */
  checkpointAll(sequenceNumbers: Record<string, string>): void {
    const next = { ...this.positions };
    for (const [shardId, sequenceNumber] of Object.entries(sequenceNumbers)) next[shardId] = { ...this.get(shardId), sequenceNumber };
    this.positions = next;
    this.persist();
  }

  finish(shardId: string): void {
    this.positions = { ...this.positions, [shardId]: { ...this.get(shardId), finished: true } };
    this.persist();
  }

  private persist(): void {
    writeFileDurably(this.file, JSON.stringify(this.positions, null, 1));
  }
}

export function writeFileDurably(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
