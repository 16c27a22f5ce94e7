import { z } from 'zod';
import { CONSUMER_NAMES, MAX_PARALLELIZATION_FACTOR, type ConsumerName } from '../lambdas/consumers';

/**
 * Everything an operator may tune per deployment, read from CDK context (cdk.json, or `-c key=value` on the
 * command line, which always arrives as a string: hence the coercions). Unknown keys are ignored by CDK, so
 * every value is validated here and a typo in a value fails the synth with the key's name.
 */
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/**
 * `<consumer>ParallelizationFactor` (eventLogParallelizationFactor, projectionsParallelizationFactor...): concurrent
 * batches per Kinesis shard for that consumer's event source mapping, 1-10 (Lambda's ParallelizationFactor). One key
 * per consumer of lambdas/consumers.ts, so a new consumer gets its key without an edit here.
 */
export function parallelizationFactorKey<N extends ConsumerName>(name: N): `${N}ParallelizationFactor` {
  return `${name}ParallelizationFactor`;
}
const parallelizationFactor = z.coerce.number().int().min(1).max(MAX_PARALLELIZATION_FACTOR).default(1);
const parallelizationFactorKeys = Object.fromEntries(CONSUMER_NAMES.map((name) => [parallelizationFactorKey(name), parallelizationFactor])) as {
  [N in ConsumerName as `${N}ParallelizationFactor`]: typeof parallelizationFactor;
};

export const DeploymentConfigSchema = z
  .object({
    ...parallelizationFactorKeys,
    /** Prefix of every physical name (tables, stream, pipe, state machines) so stages can share an account. */
    stage: z.string().regex(/^[a-z][a-z0-9-]{0,15}$/, { error: 'stage: 1-16 lowercase letters, digits or "-", starting with a letter' }).default('dev'),
    logRetentionDays: z.coerce
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), { error: `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(', ')}` })
      .default(30),
    /** Unset or 0: on-demand capacity mode. A number: provisioned with that many shards. */
    kinesisShardCount: z.coerce.number().int().min(0).max(500).default(0),
    /**
     * How long the events stream keeps records. 7 days by default: a consumer that gives up on a record after 12 h
     * (lambdas/consumers.ts) leaves 6.5 days to read it again, a weekend included. Extended retention is billed per
     * GB-month (on demand) or shard-hour (provisioned); 24 h is the cheapest the synth accepts.
     */
    kinesisRetentionHours: z.coerce.number().int().min(24).max(8760).default(168),
    archiveInfrequentAccessAfterDays: z.coerce.number().int().min(30).default(30),
    archiveGlacierInstantRetrievalAfterDays: z.coerce.number().int().min(60).default(90),
    archiveNoncurrentVersionsExpireAfterDays: positiveInt(30),
    /** How the HTTP API authenticates callers: AWS SigV4 (IAM) by default, or JWTs from an OIDC issuer. Never none. */
    apiAuthorization: z.enum(['iam', 'jwt']).default('iam'),
    jwtIssuer: z.url().optional(),
    jwtAudience: z.string().min(1).optional(),
    apiThrottleRateLimit: positiveInt(200),
    apiThrottleBurstLimit: positiveInt(400),
    /**
     * After a destroy: the stream ARN of the retained event store table (`aws dynamodb describe-table --table-name
     * <stage>-cart-events --query Table.LatestStreamArn`), which the stack then adopts instead of creating it.
     */
    adoptEventStoreStreamArn: z.string().regex(/^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[a-z][a-z0-9-]*-cart-events\/stream\/.+$/, {
      error: 'adoptEventStoreStreamArn must be the LatestStreamArn of a retained <stage>-cart-events table',
    }).optional(),
    /** Optional e-mail subscription on the alarm topic. */
    alarmEmail: z.email().optional(),
    alarmConsumerIteratorAgeMs: positiveInt(60_000),
    alarmApiLatencyP99Ms: positiveInt(1_000),
    alarmApi5xxPerMinute: positiveInt(1),
    alarmPipeFailuresPerFiveMinutes: positiveInt(1),
    alarmPipeThrottlesPerFiveMinutes: positiveInt(5),
    alarmEnrichmentErrorsPerFiveMinutes: positiveInt(1),
    alarmKinesisWriteThrottlesPerFiveMinutes: positiveInt(1),
    alarmArchiveFreshnessSeconds: positiveInt(900),
    alarmArchiveSourceLagMs: positiveInt(900_000),
    /**
     * How often the pipeline canary (lambdas/canary) runs: an EventBridge Scheduler rate expression such as
     * `rate(5 minutes)` (the default) or `rate(1 hour)`, or `off` for no schedule and no canary alarm. Unset with
     * apiAuthorization "jwt": off, since the canary signs its API calls with its IAM role.
     */
    canarySchedule: z
      .string()
      .refine((value) => value === 'off' || parseRateExpression(value) !== undefined, {
        error: 'canarySchedule must be "off" or a rate expression such as "rate(5 minutes)" (a whole number of minutes, hours or days; singular unit for 1)',
      })
      .optional(),
  })
  .refine((config) => config.apiAuthorization !== 'jwt' || (config.jwtIssuer && config.jwtAudience), {
    error: 'apiAuthorization "jwt" needs the context values jwtIssuer and jwtAudience',
  })
  .refine((config) => config.apiAuthorization !== 'jwt' || config.canarySchedule === undefined || config.canarySchedule === 'off', {
    error: 'canarySchedule: the canary signs its API calls with IAM (SigV4); with apiAuthorization "jwt" set canarySchedule=off',
  })
  .refine((config) => config.archiveGlacierInstantRetrievalAfterDays >= config.archiveInfrequentAccessAfterDays + 30, {
    error: 'archiveGlacierInstantRetrievalAfterDays must be at least 30 days after archiveInfrequentAccessAfterDays (S3 minimum)',
  });

export type DeploymentConfig = z.infer<typeof DeploymentConfigSchema>;

export const CONFIG_KEYS = Object.keys(DeploymentConfigSchema.shape) as (keyof DeploymentConfig)[];

/** Each consumer's parallelization factor in this deployment (infra and the local mappings read it alike). */
export function consumerParallelizationFactors(config: DeploymentConfig): Record<ConsumerName, number> {
  return Object.fromEntries(CONSUMER_NAMES.map((name) => [name, config[parallelizationFactorKey(name)]])) as Record<ConsumerName, number>;
}

/** The canary's schedule when none is given (issue 23): often enough to page within minutes, cheap enough to leave on. */
export const DEFAULT_CANARY_SCHEDULE = 'rate(5 minutes)';

const RATE_UNIT_SECONDS = { minute: 60, hour: 3_600, day: 86_400 } as const;

/**
 * An EventBridge Scheduler rate expression, `rate(value unit)`: value a positive whole number, unit minute(s),
 * hour(s) or day(s), singular exactly when the value is 1 (EventBridge Scheduler user guide, "Schedule types",
 * rate-based schedules). Its interval in seconds, or undefined when it is not one.
 */
export function parseRateExpression(expression: string): number | undefined {
  const match = /^rate\(([1-9]\d*) (minute|hour|day)(s?)\)$/.exec(expression);
  if (!match) return undefined;
  const value = Number(match[1]);
  if ((value === 1) !== (match[3] === '')) return undefined;
  return value * RATE_UNIT_SECONDS[match[2] as keyof typeof RATE_UNIT_SECONDS];
}

/** The canary's schedule in this deployment, or undefined when it is off. */
export function canaryScheduleOf(config: DeploymentConfig): { expression: string; intervalSeconds: number } | undefined {
  const expression = config.canarySchedule ?? (config.apiAuthorization === 'jwt' ? 'off' : DEFAULT_CANARY_SCHEDULE);
  if (expression === 'off') return undefined;
  return { expression, intervalSeconds: parseRateExpression(expression)! };
}

/** Reads the configuration from a context getter (e.g. `(key) => app.node.tryGetContext(key)`). */
export function loadDeploymentConfig(getContext: (key: string) => unknown): DeploymentConfig {
  const raw = Object.fromEntries(CONFIG_KEYS.map((key) => [key, getContext(key)]).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = DeploymentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'context'}: ${issue.message}`).join('; ');
    throw new Error(`invalid CDK context: ${problems}`);
  }
  return parsed.data;
}
