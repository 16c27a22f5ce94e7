import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type Shard, type _Record } from '@aws-sdk/client-kinesis';
import type { StreamRecordView } from '../../application/stream-inspection';
import { EventEnvelope } from '../../domain/events';
import { abortableSleep } from '../abortable-sleep';

const IDLE_POLL_MS = 500;
/** Kinesis allows 5 GetRecords a second per shard, shared by every reader: an operator's tail stays well below. */
const BUSY_POLL_MS = 250;

/**
 * Reads the event stream for people: every shard from its oldest record (TRIM_HORIZON), as views with the
 * envelope parsed. Not a consumer: it keeps no checkpoint and changes nothing. Works on Kinesis and kinesalite
 * (with the project's HTTP/1 client from adapters/aws-clients.ts).
 */
/** Between empty GetRecords pages behind the tip: each shard serves 5 GetRecords calls a second. */
const EMPTY_PAGE_PAUSE_MS = 200;

export class KinesisStreamTail {
  constructor(
    private readonly kinesis: KinesisClient,
    private readonly streamName: string,
  ) {}

  /**
   * Every record of every shard; with `follow`, then waits for new ones until the signal aborts. Records of one
   * shard come in order; shards are read in turns, so records of different shards interleave.
   */
  async *records(options: { follow?: boolean; signal?: AbortSignal; onCaughtUp?: () => void } = {}): AsyncGenerator<StreamRecordView> {
    const iterators = new Map<string, string | undefined>();
    const shardsDone = new Set<string>();
    for (;;) {
      for (const shard of await this.shards()) {
        if (!iterators.has(shard.ShardId!) && !shardsDone.has(shard.ShardId!)) iterators.set(shard.ShardId!, await this.iterator(shard.ShardId!, 'TRIM_HORIZON'));
      }
      let read = 0;
      for (const [shardId, iterator] of iterators) {
        if (options.signal?.aborted) return;
        if (!iterator) {
          iterators.delete(shardId);
          shardsDone.add(shardId);
          continue;
        }
        const result = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }), { abortSignal: options.signal });
        iterators.set(shardId, result.NextShardIterator);
        for (const record of result.Records ?? []) yield toView(shardId, record);
        read += result.Records?.length ?? 0;
        // A shard behind the latest record has more to give at once.
        if ((result.Records?.length ?? 0) === 0 && (result.MillisBehindLatest ?? 0) > 0) read += 1;
      }
      if (read === 0) options.onCaughtUp?.();
      if (read === 0 && !options.follow) return;
      if (options.signal?.aborted) return;
      await abortableSleep(read === 0 ? IDLE_POLL_MS : BUSY_POLL_MS, options.signal).catch(() => undefined);
      if (options.signal?.aborted) return;
    }
  }

  /** How many records of the shard come after `sequenceNumber` (all of them when undefined), counting at most `cap`. */
  async backlog(shardId: string, sequenceNumber: string | undefined, cap = 10_000): Promise<{ records: number; capped: boolean }> {
    let iterator = sequenceNumber ? await this.iterator(shardId, 'AFTER_SEQUENCE_NUMBER', sequenceNumber) : await this.iterator(shardId, 'TRIM_HORIZON');
    let records = 0;
    while (iterator && records < cap) {
      const result = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, cap - records) }));
      const count = result.Records?.length ?? 0;
      records += count;
      if (count === 0) break;
      iterator = result.NextShardIterator;
    }
    return { records, capped: records >= cap };
  }

  /** The records of a shard from `start` through `end` (sequence numbers, both included), as Kinesis returns them. */
  async recordsBetween(shardId: string, start: string, end: string, pauseMs = EMPTY_PAGE_PAUSE_MS): Promise<_Record[]> {
    const last = BigInt(end);
    const records: _Record[] = [];
    let iterator = await this.iterator(shardId, 'AT_SEQUENCE_NUMBER', start);
    while (iterator) {
      const result = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }));
      const page = result.Records ?? [];
      for (const record of page) {
        if (BigInt(record.SequenceNumber!) > last) return records;
        records.push(record);
      }
      // GetRecords may answer an empty page where the shard still holds records further on ("it might take multiple
      // calls to get to a portion of the shard that contains records", Kinesis API reference, GetRecords): only an
      // empty page at the tip (MillisBehindLatest 0, or not given) or a closed shard (no NextShardIterator) ends it.
      if (page.length === 0) {
        if (!result.MillisBehindLatest) break;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
      iterator = result.NextShardIterator;
    }
    return records;
  }

  /**
   * The records every shard received from `at` on (AT_TIMESTAMP), up to the tip now: a bounded read for a probe,
   * where reading the whole stream from its oldest record would cost minutes on a busy stream. `TRIM_HORIZON`
   * reads from the oldest record and keeps those that arrived from `at` on: kinesalite does not answer an
   * AT_TIMESTAMP GetShardIterator (the call times out), and a local stream is small.
   */
  async recordsSince(at: Date, start: 'AT_TIMESTAMP' | 'TRIM_HORIZON' = 'AT_TIMESTAMP', pauseMs = EMPTY_PAGE_PAUSE_MS): Promise<StreamRecordView[]> {
    const views: StreamRecordView[] = [];
    for (const shard of await this.shards()) {
      const { ShardIterator } = await this.kinesis.send(
        new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: shard.ShardId!, ShardIteratorType: start, ...(start === 'AT_TIMESTAMP' ? { Timestamp: at } : {}) }),
      );
      let iterator = ShardIterator;
      while (iterator) {
        const result = await this.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }));
        for (const record of result.Records ?? []) {
          if ((record.ApproximateArrivalTimestamp?.getTime() ?? 0) >= at.getTime()) views.push(toView(shard.ShardId!, record));
        }
        // As in recordsBetween: only an empty page at the tip (or a closed shard) ends the shard.
        if ((result.Records?.length ?? 0) === 0) {
          if (!result.MillisBehindLatest) break;
          await new Promise((resolve) => setTimeout(resolve, pauseMs));
        }
        iterator = result.NextShardIterator;
      }
    }
    return views;
  }

  async shards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const page = await this.kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.streamName }));
      shards.push(...(page.Shards ?? []));
      token = page.NextToken;
    } while (token);
    return shards;
  }

  private async iterator(shardId: string, type: 'TRIM_HORIZON' | 'AFTER_SEQUENCE_NUMBER' | 'AT_SEQUENCE_NUMBER', sequenceNumber?: string): Promise<string | undefined> {
    const { ShardIterator } = await this.kinesis.send(
      new GetShardIteratorCommand({ StreamName: this.streamName, ShardId: shardId, ShardIteratorType: type, ...(sequenceNumber ? { StartingSequenceNumber: sequenceNumber } : {}) }),
    );
    return ShardIterator;
  }
}

function toView(shardId: string, record: _Record): StreamRecordView {
  const text = Buffer.from(record.Data ?? new Uint8Array()).toString('utf8');
  const base = {
    shardId,
    sequenceNumber: record.SequenceNumber ?? '',
    arrivedAt: (record.ApproximateArrivalTimestamp ?? new Date(0)).toISOString(),
    partitionKey: record.PartitionKey ?? '',
  };
  try {
    const parsed = EventEnvelope.safeParse(JSON.parse(text));
    if (parsed.success) return { ...base, envelope: parsed.data };
  } catch {
    // not JSON: shown raw below
  }
  return { ...base, raw: text.length > 2_000 ? `${text.slice(0, 2_000)}...` : text };
}
