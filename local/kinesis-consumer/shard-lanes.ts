import { createHash } from 'node:crypto';

/**
 * How a mapping with ParallelizationFactor N splits one shard into N concurrent batches. AWS: "the number of
 * batches to process from each shard concurrently" (1-10), and Lambda "still ensures in-order processing at the
 * partition-key level" (Lambda developer guide, "Using Lambda with Kinesis", polling and batching streams /
 * ParallelizationFactor; AWS Compute Blog, "New AWS Lambda scaling controls for Kinesis and DynamoDB event
 * sources", 2019: a factor of 2 gives up to 200 concurrent invocations on 100 shards). AWS does not publish how it
 * assigns keys to batches; locally every partition key hashes (MD5, as Kinesis hashes keys to shards) to one
 * lane, and each lane delivers its batches one after the other. Two keys may share a lane (then they wait for each
 * other, which AWS allows), one key never spans two lanes, so records of one cart are never processed concurrently.
 */
export function laneOf(partitionKey: string, lanes: number): number {
  if (lanes <= 1) return 0;
  return createHash('md5').update(partitionKey).digest().readUInt32BE(0) % lanes;
}

/**
 * The shard's checkpoint when lanes finish out of order: a record is checkpointed only when it and every record
 * read before it is handled (delivered, or sent to the on-failure destination). A lane that runs ahead is
 * therefore never checkpointed past a slower lane's record: after a restart the slower lane's records are read
 * again (with some of the fast lane's: at least once), none is skipped.
 */
export class ShardCheckpointTracker {
  private readonly order: string[] = [];
  private head = 0;
  private readonly handled = new Set<string>();

  /** Records enter in shard order, as read. */
  add(sequenceNumber: string): void {
    this.order.push(sequenceNumber);
  }

  /** Marks records handled; returns the new checkpoint when it moved. */
  handle(sequenceNumbers: readonly string[]): string | undefined {
    for (const sequenceNumber of sequenceNumbers) this.handled.add(sequenceNumber);
    let moved: string | undefined;
    while (this.head < this.order.length && this.handled.has(this.order[this.head]!)) {
      moved = this.order[this.head]!;
      this.handled.delete(moved);
      this.head++;
    }
    if (this.head > 1024) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    return moved;
  }

  /** Records read and not yet checkpointed. */
  get outstanding(): number {
    return this.order.length - this.head;
  }
}

/** A wake-up call: wait() resolves at the next notify(), after ms, or when the signal aborts, whichever is first. */
export class Wakeup {
  private waiters: (() => void)[] = [];

  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  wait(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
      this.waiters.push(done);
    });
  }
}
