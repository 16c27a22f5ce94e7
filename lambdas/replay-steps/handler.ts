import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { dynamoDbClient, dynamoDbDocumentClient, kinesisClient, s3Client } from '../../adapters/aws-clients';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { KinesisRepublisher } from '../../adapters/kinesis/replay-publisher';
import { readMapRunResults, ResultWriterDetails } from '../../adapters/s3/map-run-results';
import { S3ArchiveObjects } from '../../adapters/s3/replay-archive';
import { throttledAs } from '../../adapters/throttling';
import { PROJECTION_NAMES } from '../../application/projections';
import { abandonRebuild, catchUpRebuild, prepareRebuild, retireGenerations, switchGeneration, type RebuildDeps } from '../../application/rebuild';
import { planReplay, replayObject, type ReplayPlan } from '../../application/replay';
import { known, replayProjections } from '../../application/replay-projections';
import { summarizeReplay } from '../../application/replay-summary';
import { ENV, requireEnv } from '../environment';
import { logger, metrics, publishStoredMetrics, tracer } from '../observability';
import { cartVersionsByGeneration } from '../../adapters/dynamodb/cart-summary-table';
import { generationTables } from '../../adapters/dynamodb/read-models';
import { generationalProjections, generationPointer, projectionTableNames } from '../projections/wiring';

/** The steps of statemachines/replay.asl.json, one Lambda each (lambdas/registry.ts). */

const documents = dynamoDbDocumentClient(tracer.captureAWSv3Client(dynamoDbClient()));
const archiveBucket = requireEnv(ENV.archiveBucket);
const archive = new S3ArchiveObjects(tracer.captureAWSv3Client(s3Client()), archiveBucket);
const allGenerations = generationalProjections(documents);
const projections = replayProjections(allGenerations);
const rebuild: RebuildDeps = {
  pointer: generationPointer(documents),
  projections: allGenerations,
  eventStore: new DynamoDbEventStore(documents, requireEnv(ENV.eventStoreTable)),
  cartVersions: (generations) => cartVersionsByGeneration(documents, projectionTableNames().cartSummary, generations),
  async deleteGeneration(projection, generation) {
    const tables = generationTables(documents, projectionTableNames(), generation);
    const table = projection === 'cart-summary' ? tables.cartSummary : tables.itemPopularity;
    return (await table.reset()).deleted;
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
const stream = new KinesisRepublisher(tracer.captureAWSv3Client(kinesisClient()), requireEnv(ENV.eventsStream));

export async function plan(event: { input: unknown; executionName: string; startedAt: string }, context: Context) {
  logger.addContext(context);
  const result = planReplay(event, PROJECTION_NAMES, { retireAfterSeconds: wholeSeconds(requireEnv(ENV.retireAfterSecondsDefault)) });
  if (!result.valid) logger.warn('replay input refused', { cause: result.cause });
  return result;
}

function wholeSeconds(text: string): number {
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`${ENV.retireAfterSecondsDefault} must be a whole number of seconds, not "${text}"`);
  return seconds;
}

/** The blue/green steps of a rebuild (application/rebuild.ts), one Lambda: `step` says which. */
export async function generations(event: { step: 'prepare' | 'catchUp' | 'switch' | 'retire' | 'abandon'; replay: ReplayPlan; previous?: Record<string, number> }, context: Context) {
  logger.addContext(context);
  const { replay } = event;
  const request = { projections: known(replay.projections), executionName: replay.executionName, generation: replay.generation ?? -1 };
  // DynamoDB throttling becomes Throttled, which the state machine retries with backoff (every step is idempotent).
  const result = await throttledAs(`rebuild ${event.step}`, async () => {
    switch (event.step) {
      case 'prepare':
        return { ...replay, generation: (await prepareRebuild(rebuild, request)).generation };
      case 'catchUp':
        return catchUpRebuild(rebuild, needsGeneration(request));
      case 'switch':
        return switchGeneration(rebuild, needsGeneration(request));
      case 'retire':
        return retireGenerations(rebuild, { previous: event.previous ?? {} });
      case 'abandon':
        // Without a generation (PrepareGeneration's answer was lost), what this execution builds is abandoned.
        return abandonRebuild(rebuild, { ...request, generation: request.generation < 0 ? undefined : request.generation });
    }
  });
  logger.info(`rebuild step ${event.step} done`, { generation: replay.generation, result });
  return result;
}

function needsGeneration<T extends { generation: number }>(request: T): T {
  if (request.generation < 0) throw new RangeError('this rebuild step needs the generation PrepareGeneration set in the plan');
  return request;
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
