import { mkdirSync, openSync, fsyncSync, closeSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ShardPosition {
  /** Every record up to and including this one is in Kinesis (or dead-lettered), or was filtered out. */
  sequenceNumber?: string;
  /** The shard is closed and read to its end: its children may start. */
  finished?: boolean;
  /** ApproximateCreationDateTime (epoch ms) of the last checkpointed record, for the lag shown in status. */
  lastRecordAt?: number;
}

export interface PipePositions {
  /** Positions belong to one stream: a recreated table has a new stream, and the old positions mean nothing. */
  streamArn: string;
  shards: Record<string, ShardPosition>;
  savedAt?: string;
}

/**
 * The Pipe's checkpoints, one JSON file in the data folder, replaced atomically (write, fsync, rename), so that a
 * kill -9 leaves either the old positions or the new ones, never a torn file.
 */
export class PositionStore {
  constructor(readonly file: string) {}

  load(streamArn: string): PipePositions {
    try {
      const saved = JSON.parse(readFileSync(this.file, 'utf8')) as PipePositions;
      if (saved.streamArn === streamArn && saved.shards && typeof saved.shards === 'object') return saved;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read Pipe positions ${this.file}: ${(error as Error).message}`);
    }
    return { streamArn, shards: {} };
  }

  save(positions: PipePositions): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify({ ...positions, savedAt: new Date().toISOString() }, null, 1));
    const fd = openSync(temporary, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.file);
  }
}
