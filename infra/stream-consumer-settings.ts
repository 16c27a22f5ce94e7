import { consumersWithParallelization, type ConsumerName } from '../lambdas/consumers';
import type { StreamConsumerSettings } from './constructs/stream-consumers';

/**
 * The consumers of lambdas/consumers.ts (which the local consumer runtime polls with), as event source mappings,
 * each with its parallelization factor from the deployment's context (1 when not given).
 */
export function streamConsumers(parallelizationFactors: Partial<Record<ConsumerName, number>> = {}): readonly (Omit<StreamConsumerSettings, 'function'> & { lambda: string })[] {
  return Object.entries(consumersWithParallelization(parallelizationFactors)).map(([name, consumer]) => ({
    name,
    lambda: consumer.lambda,
    batchSize: consumer.batchSize,
    maximumBatchingWindowInSeconds: consumer.maximumBatchingWindowInSeconds,
    maximumRetryAttempts: consumer.maximumRetryAttempts,
    maximumRecordAgeInSeconds: consumer.maximumRecordAgeInSeconds,
    bisectBatchOnError: consumer.bisectBatchOnFunctionError,
    parallelizationFactor: consumer.parallelizationFactor,
    startingPosition: consumer.startingPosition,
  }));
}

/** The least time a dead-lettered record stays readable in its source after its consumer gave up on it. */
export const MINIMUM_TIME_TO_ACT_SECONDS = 12 * 60 * 60;

/**
 * Every record age limit must leave time to act before the source trims the record: the dead-letter message of a
 * stream source names the record (shard, sequence number), it does not carry it. Throws at synth otherwise.
 */
export function checkRecordAgesAgainstRetention(limits: readonly { name: string; maximumRecordAgeInSeconds: number | undefined; retentionSeconds: number }[]): void {
  for (const { name, maximumRecordAgeInSeconds, retentionSeconds } of limits) {
    if (maximumRecordAgeInSeconds === undefined || maximumRecordAgeInSeconds + MINIMUM_TIME_TO_ACT_SECONDS > retentionSeconds) {
      throw new Error(
        `${name}: MaximumRecordAgeInSeconds ${maximumRecordAgeInSeconds ?? 'unset (infinite)'} leaves less than ${MINIMUM_TIME_TO_ACT_SECONDS / 3600} h ` +
          `before its source trims the record (retention ${retentionSeconds / 3600} h): lower the age or raise the retention`,
      );
    }
  }
}
