import { isThrottlingError, isTransientError } from '@smithy/core/retry';
import { HttpError } from './responses';

/** Seconds a client should wait before retrying after a 503: about one SDK budget, time for a blip to pass. */
export const RETRY_AFTER_SECONDS = 5;

/** The margin kept before the Lambda's own timeout, so that the handler still answers (503) instead of being killed (500). */
export const DEADLINE_MARGIN_MS = 2_000;

export function serviceUnavailable(what = 'the data store'): HttpError {
  return new HttpError(
    503,
    'SERVICE_UNAVAILABLE',
    `${what} did not answer in time; retry after ${RETRY_AFTER_SECONDS} s (with the same Idempotency-Key, a retried command is applied at most once)`,
    { 'retry-after': String(RETRY_AFTER_SECONDS) },
  );
}

/**
 * True for the failures of an AWS dependency that a later retry can get through: timeouts and dropped or refused
 * connections (the SDK gave up within its budget), throttling, and 5xx answers. Searched through `cause` too, since
 * Powertools idempotency wraps the store's error in its own (IdempotencyPersistenceLayerError). Anything else (a
 * validation error, a bug) is not a 503: it stays a 500, so it gets noticed.
 */
export function isDependencyUnavailable(error: unknown, depth = 0): boolean {
  // Not `instanceof Error`: Node's own socket errors come from another realm under some runners (jest's vm).
  if (typeof error !== 'object' || error === null || depth > 10) return false;
  const metadata = (error as { $metadata?: { httpStatusCode?: number } }).$metadata;
  const sdkError = error as Parameters<typeof isTransientError>[0];
  if (isTransientError(sdkError) || isThrottlingError(sdkError)) return true;
  if (metadata?.httpStatusCode !== undefined && metadata.httpStatusCode >= 500) return true;
  // A transaction refused only because DynamoDB throttled it or another one held its items: retryable too.
  const { name, cause } = error as { name?: unknown; cause?: unknown };
  if (name === 'TransactionCanceledException') {
    const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    if (reasons.some((r) => r.Code === 'ThrottlingError' || r.Code === 'TransactionConflict')) return true;
  }
  return isDependencyUnavailable(cause, depth + 1);
}

/**
 * Runs an invocation against the Lambda's deadline: if it has not answered DEADLINE_MARGIN_MS before the Lambda
 * would time out (API Gateway would then answer a bare 500/503 of its own), it answers 503 instead. The work left
 * in flight may still finish; that is the same as a write that timed out but was applied.
 */
export async function withinDeadline<T>(remainingMs: number, work: Promise<T>, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), Math.max(0, remainingMs - DEADLINE_MARGIN_MS));
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
