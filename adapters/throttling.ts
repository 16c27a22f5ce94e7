import { Throttled } from '../application/replay-ports';

/** Error names AWS services use for "slow down" once the SDK's own retries are spent. */
const THROTTLING_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'RequestLimitExceeded',
  'SlowDown',
  'TooManyRequestsException',
  'LimitExceededException',
  'KMSThrottlingException',
]);

export function isThrottling(error: unknown): boolean {
  const named = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return THROTTLING_NAMES.has(named?.name ?? '') || named?.$metadata?.httpStatusCode === 429;
}

/**
 * Re-throws throttling as the one error name the state machines retry with backoff (`Throttled`), so their
 * Retry lists stay short and the same for every service behind a step.
 */
export async function throttledAs<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isThrottling(error)) throw new Throttled(`${what}: ${(error as Error).name}: ${(error as Error).message}`);
    throw error;
  }
}
