import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Stream } from 'aws-cdk-lib/aws-kinesis';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { ENV } from '../lambdas/environment';

/** The resources a handler may be given. */
export interface WiringResources {
  readonly eventStore: Table;
  readonly idempotency: Table;
  readonly eventsStream: Stream;
  readonly cartSummary: Table;
  readonly itemPopularity: Table;
  readonly archive: Bucket;
  readonly cdcDeadLetterQueue: Queue;
}

type Wire = (fn: NodejsFunction, resources: WiringResources) => void;

/** Least-privilege helpers: the actions the adapters actually call, on exactly one resource (and its indexes). */
const allow = (fn: NodejsFunction, actions: string[], resources: string[]) =>
  fn.addToRolePolicy(new PolicyStatement({ actions, resources }));

const readEventStore = (fn: NodejsFunction, { eventStore }: WiringResources) => {
  fn.addEnvironment(ENV.eventStoreTable, eventStore.tableName);
  allow(fn, ['dynamodb:Query', 'dynamodb:GetItem'], [eventStore.tableArn]);
};

/**
 * What each Lambda of lambdas/registry.ts gets: environment variables (names from lambdas/environment.ts) and IAM
 * grants. Triggers (routes, the Pipe, event source mappings, state machines) are wired by their constructs. A
 * registry entry without a line here fails the synth, so a new handler cannot be deployed without a decision on
 * what it may touch.
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
};

export function wireLambda(name: string, fn: NodejsFunction, resources: WiringResources): void {
  const wire = LAMBDA_WIRING[name];
  if (!wire) throw new Error(`infra/lambda-wiring.ts has no wiring for the Lambda "${name}" of lambdas/registry.ts: decide its environment and grants there`);
  wire(fn, resources);
}
