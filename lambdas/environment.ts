/**
 * Names of the environment variables through which every handler learns its resources. CDK sets them from the
 * constructs; the local stack sets them from local/config.ts. Reading them in one place keeps the two in step.
 */
export const ENV = {
  eventStoreTable: 'EVENT_STORE_TABLE',
  idempotencyTable: 'IDEMPOTENCY_TABLE',
  eventsStream: 'EVENTS_STREAM_NAME',
  cartSummaryTable: 'CART_SUMMARY_TABLE',
  itemPopularityTable: 'ITEM_POPULARITY_TABLE',
  /** Per-cart positions of the sequenced consumers that keep no read model of their own (the event log). */
  consumerPositionsTable: 'CONSUMER_POSITIONS_TABLE',
  archiveBucket: 'ARCHIVE_BUCKET',
  storeLayout: 'CDC_STORE_LAYOUT',
  /** On AWS: the SQS queue (the CDC Pipe's dead-letter queue) where the enrichment sends records it cannot split. */
  deadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  /** Locally: the JSON Lines file that stands in for the dead-letter queues (`npm run dead-letters` lists it). */
  localDeadLetterFile: 'LOCAL_DEAD_LETTER_FILE',
  /** The replay plan: a rebuild's default retireAfterSeconds, derived by the deployment (application/replay.ts). */
  retireAfterSecondsDefault: 'REPLAY_RETIRE_AFTER_SECONDS_DEFAULT',
  /** The canary (on AWS): the cart API's base URL, which it calls SigV4-signed. */
  canaryApiUrl: 'CANARY_API_URL',
  /** The canary: the replay state machine its dry-run replay starts. */
  replayStateMachineArn: 'REPLAY_STATE_MACHINE_ARN',
  /** The canary: the event log Lambda's log group, where the event-log hop finds the probe's lines. */
  eventLogLogGroup: 'EVENT_LOG_LOG_GROUP',
  /** The canary: every dead-letter queue as `name=url,...` (the DeadLetterQueueUrls output's format). */
  deadLetterQueueUrls: 'DEAD_LETTER_QUEUE_URLS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

export function requireEnv(name: EnvName): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
