import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { dynamoDbClient, dynamoDbDocumentClient, kinesisClient, s3Client } from '../../adapters/aws-clients';
import { DynamoDbCartSummaryTable } from '../../adapters/dynamodb/cart-summary-table';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { DynamoDbItemPopularityTable } from '../../adapters/dynamodb/item-popularity-table';
import { KinesisRepublisher } from '../../adapters/kinesis/replay-publisher';
import { readMapRunResults, ResultWriterDetails } from '../../adapters/s3/map-run-results';
import { S3ArchiveObjects } from '../../adapters/s3/replay-archive';
import { throttledAs } from '../../adapters/throttling';
import { CartProjections, PROJECTION_NAMES } from '../../application/projections';
import { planReplay, replayObject, resetProjections, type ReplayPlan } from '../../application/replay';
import { replayProjections } from '../../application/replay-projections';
import { summarizeReplay } from '../../application/replay-summary';
import { ENV, requireEnv } from '../environment';
import { logger, metrics, publishStoredMetrics, tracer } from '../observability';

/** The steps of statemachines/replay.asl.json, one Lambda each (lambdas/registry.ts). */

const documents = dynamoDbDocumentClient(tracer.captureAWSv3Client(dynamoDbClient()));
const archiveBucket = requireEnv(ENV.archiveBucket);
const archive = new S3ArchiveObjects(tracer.captureAWSv3Client(s3Client()), archiveBucket);
const projections = replayProjections(
  new CartProjections(
    [
      new DynamoDbCartSummaryTable(documents, requireEnv(ENV.cartSummaryTable)),
      new DynamoDbItemPopularityTable(documents, requireEnv(ENV.itemPopularityTable)),
    ],
    new DynamoDbEventStore(documents, requireEnv(ENV.eventStoreTable)),
  ),
);
const stream = new KinesisRepublisher(tracer.captureAWSv3Client(kinesisClient()), requireEnv(ENV.eventsStream));

export async function plan(event: { input: unknown; executionName: string; startedAt: string }, context: Context) {
  logger.addContext(context);
  const result = planReplay(event, PROJECTION_NAMES);
  if (!result.valid) logger.warn('replay input refused', { cause: result.cause });
  return result;
}

export async function reset(event: { projections: string[] }, context: Context) {
  logger.addContext(context);
  // DynamoDB throttling becomes Throttled, which the state machine retries with backoff (deleting is idempotent).
  const result = await throttledAs('reset projections', () => resetProjections(projections, event.projections));
  logger.info('projections reset for rebuild', { projections: event.projections });
  return result;
}

export async function object(event: { key: string; replay: ReplayPlan }, context: Context) {
  logger.addContext(context);
  try {
    // Applying is idempotent: the state machine retries a throttled object whole, with backoff.
    const result = await throttledAs(`replay ${event.key}`, () => replayObject({ archive, projections, stream }, event));
    metrics.addMetric('ReplayEventsRead', MetricUnit.Count, result.eventsRead);
    metrics.addMetric('ReplayEventsApplied', MetricUnit.Count, result.applied);
    return result;
  } finally {
    publishStoredMetrics();
  }
}

/** Reads the children's results from the ResultWriter export (AWS and the local endpoint write the same files). */
export async function summary(state: { replay?: ReplayPlan; mapRun?: unknown; failure?: unknown }, context: Context) {
  logger.addContext(context);
  if (!state.replay) throw new Error('summary needs the replay plan in its input');
  const details = ResultWriterDetails.safeParse(state.mapRun);
  const children = details.success ? await readMapRunResults(archive, details.data.ResultWriterDetails.Key) : [];
  const result = summarizeReplay(state.replay, children, state.failure, Date.now(), archiveBucket);
  if (result.succeeded) logger.info('replay finished', { ...result.summary });
  else logger.error('replay failed', { cause: result.cause });
  return result;
}
