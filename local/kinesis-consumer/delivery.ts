/**
 * How a Lambda event source mapping delivers one batch read from a shard, as the local runtime plays it:
 *
 * - success (no batchItemFailures): checkpoint after the batch's last record;
 * - partial batch response: checkpoint before the FIRST reported failure (lowest sequence number) and retry
 *   from that record; a response naming a record that is not in the batch counts as a function error;
 * - function error (throw, or timeout): with bisect on, split the attempt in half and try the first half
 *   (halving does not spend retries); an unsplittable attempt is retried;
 * - retries are counted per head record, reset whenever the checkpoint moves; after maximumRetryAttempts
 *   retries, the failing record (partial response) or the failing attempt (function error; one record when
 *   bisect is on) goes to the on-failure destination and the checkpoint moves past it;
 * - records older than maximumRecordAgeInSeconds go to the on-failure destination instead of being retried.
 * Nothing is checkpointed before the handler succeeded for it or the on-failure destination has it.
 */
export interface DeliverySettings {
  readonly maximumRetryAttempts: number;
  readonly bisectBatchOnFunctionError: boolean;
  readonly maximumRecordAgeInSeconds: number;
}

export interface DeliverableRecord {
  readonly sequenceNumber: string;
  readonly arrivalMs: number;
}

export type InvokeOutcome = { readonly kind: 'ok' } | { readonly kind: 'partial'; readonly failedIndex: number; readonly reason: string } | { readonly kind: 'error'; readonly reason: string };

export interface DeliveryIo<R extends DeliverableRecord> {
  invoke(batch: readonly R[]): Promise<InvokeOutcome>;
  checkpoint(record: R): Promise<void> | void;
  discard(records: readonly R[], reason: string, attempts: number): Promise<void>;
  sleep(ms: number): Promise<void>;
  stopped(): boolean;
  now(): number;
}

export const MAX_RETRY_BACKOFF_MS = 5_000;

export async function deliverBatch<R extends DeliverableRecord>(records: readonly R[], settings: DeliverySettings, io: DeliveryIo<R>): Promise<'delivered' | 'stopped'> {
  let pending = records.slice();
  let size = pending.length;
  let failures = 0;
  const advance = async (count: number) => {
    await io.checkpoint(pending[count - 1]!);
    pending = pending.slice(count);
    size = pending.length;
    failures = 0;
  };
  while (pending.length > 0) {
    if (io.stopped()) return 'stopped';
    const maxAgeMs = settings.maximumRecordAgeInSeconds * 1000;
    let expired = 0;
    while (expired < pending.length && io.now() - pending[expired]!.arrivalMs > maxAgeMs) expired++;
    if (expired > 0) {
      await io.discard(pending.slice(0, expired), `older than maximumRecordAgeInSeconds (${settings.maximumRecordAgeInSeconds} s)`, failures);
      await advance(expired);
      continue;
    }
    const attempt = pending.slice(0, size);
    const outcome = await io.invoke(attempt);
    if (outcome.kind === 'ok') {
      await advance(attempt.length);
      continue;
    }
    if (outcome.kind === 'partial') {
      if (outcome.failedIndex > 0) await advance(outcome.failedIndex);
      failures++;
      if (failures > settings.maximumRetryAttempts) {
        await io.discard(pending.slice(0, 1), `retry attempts exhausted: ${outcome.reason}`, failures);
        await advance(1);
      } else await io.sleep(backoff(failures));
      continue;
    }
    if (settings.bisectBatchOnFunctionError && attempt.length > 1) {
      size = Math.ceil(attempt.length / 2);
      continue;
    }
    failures++;
    if (failures > settings.maximumRetryAttempts) {
      await io.discard(attempt, `retry attempts exhausted: ${outcome.reason}`, failures);
      await advance(attempt.length);
    } else await io.sleep(backoff(failures));
  }
  return 'delivered';
}

function backoff(failures: number): number {
  return Math.min(MAX_RETRY_BACKOFF_MS, 100 * 2 ** (failures - 1));
}
