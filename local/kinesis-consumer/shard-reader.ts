import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  ProvisionedThroughputExceededException,
  type KinesisClient,
  type Shard,
  type _Record,
} from '@aws-sdk/client-kinesis';

export type StartingPosition = 'TRIM_HORIZON' | 'LATEST';

export interface ShardRead {
  readonly records: _Record[];
  /** The shard is closed and every record of it has been read. */
  readonly closed: boolean;
}

/**
 * Reads one shard in order with GetRecords, from AFTER a sequence number (a checkpoint) or from the starting
 * position. Keeps its own read position: an expired iterator is re-acquired after the last record read, and a
 * throttled read returns nothing (the caller polls again later). Kinesalite and Kinesis alike.
 */
export class ShardReader {
  private iterator: string | undefined;
  private lastRead: string | undefined;
  private closed = false;

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
    readonly shardId: string,
    after: string | undefined,
    private readonly startingPosition: StartingPosition = 'TRIM_HORIZON',
  ) {
    this.lastRead = after;
  }

  async read(limit: number): Promise<ShardRead> {
    if (this.closed) return { records: [], closed: true };
    if (!this.iterator) this.iterator = await this.acquireIterator();
    try {
      const result = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: this.iterator, Limit: Math.max(1, Math.min(limit, 10_000)) }));
      const records = result.Records ?? [];
      if (records.length > 0) this.lastRead = records.at(-1)!.SequenceNumber;
      this.iterator = result.NextShardIterator;
      if (!this.iterator) this.closed = true;
      return { records, closed: this.closed };
    } catch (error) {
      if (error instanceof ExpiredIteratorException) {
        this.iterator = undefined;
        return { records: [], closed: false };
      }
      if (error instanceof ProvisionedThroughputExceededException) return { records: [], closed: false };
      throw error;
    }
  }

  private async acquireIterator(): Promise<string> {
    const { ShardIterator } = await this.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.streamName,
        ShardId: this.shardId,
        ...(this.lastRead ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: this.lastRead } : { ShardIteratorType: this.startingPosition }),
      }),
    );
    if (!ShardIterator) throw new Error(`no shard iterator for ${this.shardId}`);
    return ShardIterator;
  }
}

export async function listShards(kinesis: KinesisClient, streamName: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let token: string | undefined;
  do {
    const page = await kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: streamName }));
    shards.push(...(page.Shards ?? []));
    token = page.NextToken;
  } while (token);
  return shards;
}

/** Shards whose parents (if any are still listed) are finished: a cart's older events come first. */
export function readyShards(shards: readonly Shard[], finished: (shardId: string) => boolean): Shard[] {
  const listed = new Set(shards.map((s) => s.ShardId));
  const parentDone = (id: string | undefined) => !id || !listed.has(id) || finished(id);
  return shards.filter((s) => !finished(s.ShardId!) && parentDone(s.ParentShardId) && parentDone(s.AdjacentParentShardId));
}

export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
