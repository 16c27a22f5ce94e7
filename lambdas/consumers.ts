import type { LambdaName } from './registry';

/**
 * Every Lambda that consumes the Kinesis stream `cart-events`, with its event source mapping settings. CDK
 * creates exactly these mappings (infra/), and the local runtime (local/kinesis-consumer/) polls with exactly
 * these settings, so the two behave alike. Partial batch responses are always on: handlers report failed
 * records with the Powertools batch utility, and the mapping retries from the first one.
 */
export interface KinesisConsumerSettings {
  readonly lambda: LambdaName;
  /** Records per invocation (Kinesis: 1-10,000). */
  readonly batchSize: number;
  /** How long to gather records before invoking, when the batch is not full (0-300 s). */
  readonly maximumBatchingWindowInSeconds: number;
  /** Retries of a failing batch before its records go to the on-failure destination (0-10,000). */
  readonly maximumRetryAttempts: number;
  /** Records older than this are not retried but sent to the on-failure destination (60-604,800 s). */
  readonly maximumRecordAgeInSeconds: number;
  /** On a function error, split the batch in two and retry the halves, down to the failing record. */
  readonly bisectBatchOnFunctionError: boolean;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /**
   * Concurrent batches per shard (1-10; AWS keeps records of one partition key, here one cart, in order and never
   * processed concurrently). The defaults here are 1; a deployment sets each consumer's factor with the CDK context
   * value `<consumer>ParallelizationFactor` (infra/config.ts), which the local mappings read too.
   */
  readonly parallelizationFactor: number;
  readonly reportBatchItemFailures: true;
}

/**
 * A consumer gives up on a record after 12 hours: well inside the events stream's retention (at least 24 h,
 * 7 days by default: infra/config.ts kinesisRetentionHours), because the on-failure destination receives only the
 * batch's shard and sequence numbers (Lambda developer guide, "Kinesis: on-failure destinations"): the records
 * themselves must still be in the stream when someone reads them again. The synth refuses a retention that
 * leaves less than 12 hours after this age (infra/stream-consumer-settings.ts).
 */
export const CONSUMER_MAXIMUM_RECORD_AGE_SECONDS = 12 * 60 * 60;

export const KINESIS_CONSUMERS = {
  eventLog: {
    lambda: 'eventLog',
    batchSize: 100,
    maximumBatchingWindowInSeconds: 1,
    maximumRetryAttempts: 3,
    maximumRecordAgeInSeconds: CONSUMER_MAXIMUM_RECORD_AGE_SECONDS,
    bisectBatchOnFunctionError: true,
    startingPosition: 'TRIM_HORIZON',
    parallelizationFactor: 1,
    reportBatchItemFailures: true,
  },
  projections: {
    lambda: 'projections',
    batchSize: 100,
    // The read API should follow commands within a second or two: invoke as soon as records arrive.
    maximumBatchingWindowInSeconds: 0,
    // A projection that skips a record drifts until the next event of that cart catches it up: retry longer.
    maximumRetryAttempts: 10,
    maximumRecordAgeInSeconds: CONSUMER_MAXIMUM_RECORD_AGE_SECONDS,
    bisectBatchOnFunctionError: true,
    startingPosition: 'TRIM_HORIZON',
    parallelizationFactor: 1,
    reportBatchItemFailures: true,
  },
} as const satisfies Record<string, KinesisConsumerSettings>;

export type ConsumerName = keyof typeof KINESIS_CONSUMERS;

export const CONSUMER_NAMES = Object.keys(KINESIS_CONSUMERS) as ConsumerName[];

/** Lambda's bounds for ParallelizationFactor on stream sources. */
export const MAX_PARALLELIZATION_FACTOR = 10;

/** The consumers' settings with each one's parallelization factor (1 for a consumer not named). */
export function consumersWithParallelization(factors: Partial<Record<ConsumerName, number>>): Record<ConsumerName, KinesisConsumerSettings> {
  return Object.fromEntries(
    CONSUMER_NAMES.map((name) => {
      const factor = factors[name] ?? KINESIS_CONSUMERS[name].parallelizationFactor;
      if (!Number.isInteger(factor) || factor < 1 || factor > MAX_PARALLELIZATION_FACTOR) {
        throw new Error(`${name}: parallelizationFactor must be an integer from 1 to ${MAX_PARALLELIZATION_FACTOR}, got ${factor}`);
      }
      return [name, { ...KINESIS_CONSUMERS[name], parallelizationFactor: factor }];
    }),
  ) as Record<ConsumerName, KinesisConsumerSettings>;
}

/** Dead-letter `source` of records a consumer's mapping gave up on (on AWS: its on-failure destination). */
export function consumerDeadLetterSource(name: ConsumerName): string {
  return `consumer:${name}`;
}
