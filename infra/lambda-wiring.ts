import { Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITable, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Stream } from 'aws-cdk-lib/aws-kinesis';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { ITEM_POPULARITY_RANKING } from '../adapters/dynamodb/projection-tables';
import { ARCHIVE_INDEX_KEY } from '../application/backfill';
import { REPLAY_REJECTS_PREFIX } from '../application/replay-lines';
import { ARCHIVE_EVENTS_PREFIX } from '../application/replay-window';
import { REPLAY_RESULTS } from '../statemachines/state-machines';
import { ENV } from '../lambdas/environment';

/** Where the replay's Distributed Map ResultWriter writes (statemachines/replay.asl.json). */
export const REPLAY_RESULTS_PREFIX = REPLAY_RESULTS.prefix;

/** The resources a handler may be given. */
export interface WiringResources {
  readonly eventStore: ITable;
  readonly idempotency: Table;
  readonly eventsStream: Stream;
  readonly cartSummary: Table;
  readonly itemPopularity: Table;
  readonly consumerPositions: Table;
  readonly archive: Bucket;
  readonly cdcDeadLetterQueue: Queue;
  /** A rebuild's default retireAfterSeconds, derived from this template's timeouts (infra/cart-stack.ts). */
  readonly retireAfterSecondsDefault: number;
}

type Wire = (fn: NodejsFunction, resources: WiringResources) => void;

/** Least privilege: the actions the adapters actually call, on exactly the resources they use. */
function allow(fn: NodejsFunction, actions: string[], resources: string[]): void {
  fn.addToRolePolicy(new PolicyStatement({ actions, resources }));
}

/**
 * Object grants under a key prefix: the keys are generated (hourly archive objects, Map Run results), so the
 * resource must end in `*`; the prefix keeps it to one kind of object. Acknowledged for cdk-nag with that reason.
 */
function allowObjects(fn: NodejsFunction, actions: string[], bucket: Bucket, prefix: string): void {
  allow(fn, actions, [bucket.arnForObjects(`${prefix}*`)]);
  const bucketId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnBucket);
  Validations.of(fn.role!).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`,
    reason: `Objects under ${prefix} have generated names (archive hours, Map Run results); the grant is limited to that prefix.`,
  });
}

/** s3:ListBucket on the bucket, only for keys under a prefix (the s3:prefix condition key). */
function listUnderPrefix(fn: NodejsFunction, bucket: Bucket, prefix: string): void {
  fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucket.bucketArn], conditions: { StringLike: { 's3:prefix': `${prefix}*` } } }));
}

function readEventStore(fn: NodejsFunction, { eventStore }: WiringResources): void {
  fn.addEnvironment(ENV.eventStoreTable, eventStore.tableName);
  allow(fn, ['dynamodb:Query', 'dynamodb:GetItem'], [eventStore.tableArn]);
}

function readProjections(fn: NodejsFunction, { cartSummary, itemPopularity }: WiringResources): void {
  fn.addEnvironment(ENV.cartSummaryTable, cartSummary.tableName);
  fn.addEnvironment(ENV.itemPopularityTable, itemPopularity.tableName);
  allow(fn, ['dynamodb:GetItem'], [cartSummary.tableArn]);
  // GET /read/items/top queries the ranking index.
  allow(fn, ['dynamodb:GetItem', 'dynamodb:Query'], [itemPopularity.tableArn, `${itemPopularity.tableArn}/index/${ITEM_POPULARITY_RANKING.indexName}`]);
}

/**
 * Packed writes (adapters/dynamodb/packed-writes.ts): one BatchGetItem over both tables for the carts a warm
 * container has not cached, then TransactWriteItems of cart-summary conditional Puts, item-popularity cursor Puts
 * (a cart's last step) or Updates (a chunk of an event touching > 99 skus) and sku-row Updates (authorised per item
 * as PutItem / UpdateItem).
 */
function writeProjections(fn: NodejsFunction, resources: WiringResources): void {
  readProjections(fn, resources);
  allow(fn, ['dynamodb:BatchGetItem'], [resources.cartSummary.tableArn, resources.itemPopularity.tableArn]);
  allow(fn, ['dynamodb:PutItem'], [resources.cartSummary.tableArn, resources.itemPopularity.tableArn]);
  allow(fn, ['dynamodb:UpdateItem'], [resources.itemPopularity.tableArn]);
}

/**
 * What each Lambda of lambdas/registry.ts gets: environment variables (names from lambdas/environment.ts) and IAM
 * grants. Triggers (routes, the Pipe, event source mappings, state machines) are wired by their constructs. A
 * registry entry without a line here fails the synth, so no handler is deployed without a decision on what it
 * may touch.
 */
export const LAMBDA_WIRING: Record<string, Wire> = {
  cartApi: (fn, resources) => {
    readEventStore(fn, resources);
    // Appends are conditional Puts, or a TransactWriteItems of Puts (which IAM authorises as PutItem per item).
    allow(fn, ['dynamodb:PutItem'], [resources.eventStore.tableArn]);
    fn.addEnvironment(ENV.idempotencyTable, resources.idempotency.tableName);
    // Powertools idempotency: get, conditional put, update on completion, delete on failure.
    allow(fn, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'], [resources.idempotency.tableArn]);
  },
  cdcEnrichment: (fn, resources) => {
    fn.addEnvironment(ENV.storeLayout, 'event-per-item');
    fn.addEnvironment(ENV.deadLetterQueueUrl, resources.cdcDeadLetterQueue.queueUrl);
    allow(fn, ['sqs:SendMessage'], [resources.cdcDeadLetterQueue.queueArn]);
  },
  // Writes log lines; its event source mapping grants the stream read, its role its own log group. Its sequencer
  // reads and conditionally moves its positions, and catches gaps up from the event store.
  eventLog: (fn, resources) => {
    readEventStore(fn, resources);
    fn.addEnvironment(ENV.consumerPositionsTable, resources.consumerPositions.tableName);
    allow(fn, ['dynamodb:GetItem', 'dynamodb:PutItem'], [resources.consumerPositions.tableArn]);
  },
  projections: (fn, resources) => {
    // Gaps are caught up from the event store (the source of truth).
    readEventStore(fn, resources);
    writeProjections(fn, resources);
  },
  readApi: readProjections,

  // The replay and backfill steps (statemachines/) share one module per machine that builds all its adapters at
  // load, so each step gets every variable of its module; grants stay per step.
  replayPlan: (fn, resources) => {
    replayEnvironment(fn, resources);
    fn.addEnvironment(ENV.retireAfterSecondsDefault, String(resources.retireAfterSecondsDefault));
  },
  replayGenerations: (fn, resources) => {
    replayEnvironment(fn, resources);
    // Moves the generation pointer (a conditional Put of one cart-summary item) and catches the new generation up:
    // events read from the event store, written like the projections consumer writes them.
    readEventStore(fn, resources);
    writeProjections(fn, resources);
    // The catch-up lists the live generation's carts (Scan); retiring deletes a generation's rows (Scan + BatchWriteItem).
    allow(fn, ['dynamodb:Scan', 'dynamodb:BatchWriteItem'], [resources.cartSummary.tableArn, resources.itemPopularity.tableArn]);
  },
  replayObject: (fn, resources) => {
    replayEnvironment(fn, resources);
    allowObjects(fn, ['s3:GetObject'], resources.archive, ARCHIVE_EVENTS_PREFIX);
    // An object listed by the Map and gone by the read must answer NoSuchKey (ArchiveObjectMissing), not 403: S3
    // answers a missing key with 404 only to a caller allowed s3:ListBucket (S3 API reference, GetObject,
    // "Permissions"), and evaluates that ListBucket with the requested key as s3:prefix, so a listing limited to the
    // archive's prefix is enough (and lists nothing else of the bucket).
    listUnderPrefix(fn, resources.archive, ARCHIVE_EVENTS_PREFIX);
    // Sets bad lines aside: replay-rejects/<execution>/<archive key>.
    allowObjects(fn, ['s3:PutObject'], resources.archive, REPLAY_REJECTS_PREFIX);
    readEventStore(fn, resources);
    writeProjections(fn, resources);
    // target "stream": republishes the events, flagged as replayed.
    allow(fn, ['kinesis:PutRecords', 'kinesis:PutRecord'], [resources.eventsStream.streamArn]);
  },
  replaySummary: (fn, resources) => {
    replayEnvironment(fn, resources);
    // Reads the Distributed Map's ResultWriter manifest and result files.
    allowObjects(fn, ['s3:GetObject'], resources.archive, `${REPLAY_RESULTS_PREFIX}/`);
  },
  backfillPlan: (fn, resources) => {
    backfillEnvironment(fn, resources);
    // Brings the archive index up to date: lists and reads the archive, rewrites the index object.
    allow(fn, ['s3:ListBucket'], [resources.archive.bucketArn]);
    allowObjects(fn, ['s3:GetObject'], resources.archive, ARCHIVE_EVENTS_PREFIX);
    allow(fn, ['s3:GetObject'], [resources.archive.arnForObjects(ARCHIVE_INDEX_KEY)]);
    allow(fn, ['s3:PutObject'], [resources.archive.arnForObjects(ARCHIVE_INDEX_KEY)]);
  },
  backfillSegment: (fn, resources) => {
    backfillEnvironment(fn, resources);
    allow(fn, ['dynamodb:Scan'], [resources.eventStore.tableArn]);
    allow(fn, ['s3:GetObject'], [resources.archive.arnForObjects(ARCHIVE_INDEX_KEY)]);
    allowObjects(fn, ['s3:PutObject'], resources.archive, ARCHIVE_EVENTS_PREFIX);
  },
  backfillSummary: (fn, resources) => backfillEnvironment(fn, resources),
  // The pipeline canary's reads of the event store, the stream and the archive (SdkPipelineProbe); the API, the
  // replay machine, the event log's log group and the dead-letter queues are wired by infra/constructs/pipeline-canary.ts,
  // which runs after they exist.
  canary: (fn, resources) => {
    readEventStore(fn, resources);
    fn.addEnvironment(ENV.eventsStream, resources.eventsStream.streamName);
    allow(fn, ['kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords'], [resources.eventsStream.streamArn]);
    fn.addEnvironment(ENV.archiveBucket, resources.archive.bucketName);
    listUnderPrefix(fn, resources.archive, ARCHIVE_EVENTS_PREFIX);
    allowObjects(fn, ['s3:GetObject'], resources.archive, ARCHIVE_EVENTS_PREFIX);
  },
};

function replayEnvironment(fn: NodejsFunction, r: WiringResources): void {
  fn.addEnvironment(ENV.archiveBucket, r.archive.bucketName);
  fn.addEnvironment(ENV.cartSummaryTable, r.cartSummary.tableName);
  fn.addEnvironment(ENV.itemPopularityTable, r.itemPopularity.tableName);
  fn.addEnvironment(ENV.eventStoreTable, r.eventStore.tableName);
  fn.addEnvironment(ENV.eventsStream, r.eventsStream.streamName);
}

function backfillEnvironment(fn: NodejsFunction, r: WiringResources): void {
  fn.addEnvironment(ENV.archiveBucket, r.archive.bucketName);
  fn.addEnvironment(ENV.eventStoreTable, r.eventStore.tableName);
}

export function wireLambda(name: string, fn: NodejsFunction, resources: WiringResources): void {
  const wire = LAMBDA_WIRING[name];
  if (!wire) throw new Error(`infra/lambda-wiring.ts has no wiring for the Lambda "${name}" of lambdas/registry.ts: decide its environment and grants there`);
  wire(fn, resources);
}
