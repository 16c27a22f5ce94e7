import { eventsPerSecond, StreamMarker, type MarkedStreamRecord } from '../../application/stream-inspection';
import type { KinesisStreamTail } from '../../adapters/kinesis/stream-tail';

/** Records kept for the stream view (newest last); older ones are still counted for duplicates. */
const KEPT_RECORDS = 2_000;
const RATE_WINDOW_MS = 10_000;
const RESTART_DELAY_MS = 2_000;

/**
 * One tail of the Kinesis stream in the API process, shared by every console page: started on first use, it
 * reads the stream from its oldest record, marks each record (duplicates, redeliveries...) and fans new records
 * out to the open server-sent-event connections.
 */
export class LiveStream {
  private readonly kept: MarkedStreamRecord[] = [];
  private readonly arrivals: number[] = [];
  private readonly listeners = new Set<(record: MarkedStreamRecord) => void>();
  private readonly abort = new AbortController();
  private running?: Promise<void>;
  private lastError?: string;
  private caughtUp!: Promise<void>;
  private markCaughtUp!: () => void;

  constructor(private readonly tail: KinesisStreamTail) {}

  ensureStarted(): void {
    if (this.running) return;
    this.caughtUp = new Promise((resolve) => (this.markCaughtUp = resolve));
    this.running = this.run();
  }

  /** Resolves once the tail has read every shard to its end once (or after `timeoutMs`, whichever first). */
  async ready(timeoutMs = 3_000): Promise<void> {
    this.ensureStarted();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.caughtUp, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }

  recent(filter: { cartId?: string; limit?: number } = {}): MarkedStreamRecord[] {
    this.ensureStarted();
    const matching = filter.cartId ? this.kept.filter((record) => record.partitionKey === filter.cartId || record.envelope?.aggregateId === filter.cartId) : this.kept;
    return matching.slice(-(filter.limit ?? 200));
  }

  subscribe(listener: (record: MarkedStreamRecord) => void): () => void {
    this.ensureStarted();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  eventsPerSecond(now = Date.now()): number {
    this.ensureStarted();
    return eventsPerSecond(this.arrivals, now, RATE_WINDOW_MS);
  }

  get error(): string | undefined {
    return this.lastError;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    while (!this.abort.signal.aborted) {
      // Reading again from the oldest record rebuilds the marks exactly; the view is replaced, not appended to.
      const marker = new StreamMarker();
      this.kept.length = 0;
      try {
        for await (const view of this.tail.records({ follow: true, signal: this.abort.signal, onCaughtUp: () => this.markCaughtUp() })) {
          this.lastError = undefined;
          const record = marker.mark(view);
          this.kept.push(record);
          if (this.kept.length > KEPT_RECORDS) this.kept.splice(0, this.kept.length - KEPT_RECORDS);
          const arrived = Date.parse(record.arrivedAt);
          if (arrived > Date.now() - RATE_WINDOW_MS) {
            this.arrivals.push(arrived);
            while (this.arrivals.length > 0 && this.arrivals[0]! < Date.now() - RATE_WINDOW_MS) this.arrivals.shift();
          }
          for (const listener of this.listeners) listener(record);
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        this.lastError = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, RESTART_DELAY_MS).unref());
    }
  }
}
