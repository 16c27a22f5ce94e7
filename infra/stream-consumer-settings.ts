import { KINESIS_CONSUMERS } from '../lambdas/consumers';
import type { StreamConsumerSettings } from './constructs/stream-consumers';

/** The consumers of lambdas/consumers.ts (which the local consumer runtime polls with), as event source mappings. */
export const STREAM_CONSUMERS: readonly (Omit<StreamConsumerSettings, 'function'> & { lambda: string })[] = Object.entries(KINESIS_CONSUMERS).map(
  ([name, consumer]) => ({
    name,
    lambda: consumer.lambda,
    batchSize: consumer.batchSize,
    maximumBatchingWindowInSeconds: consumer.maximumBatchingWindowInSeconds,
    maximumRetryAttempts: consumer.maximumRetryAttempts,
    maximumRecordAgeInSeconds: consumer.maximumRecordAgeInSeconds,
    bisectBatchOnError: consumer.bisectBatchOnFunctionError,
    parallelizationFactor: consumer.parallelizationFactor,
    startingPosition: consumer.startingPosition,
  }),
);
