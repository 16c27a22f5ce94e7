import type { Context } from 'aws-lambda';
import { dynamoDbClient, dynamoDbDocumentClient, s3Client } from '../../adapters/aws-clients';
import { DynamoDbEventStoreScanner } from '../../adapters/dynamodb/backfill-event-scan';
import { S3ArchiveObjects } from '../../adapters/s3/replay-archive';
import {
  archivedEventIds,
  backfillSegmentSlice,
  loadArchiveIndex,
  planBackfill,
  summarizeBackfill,
  type BackfillPlan,
  type SegmentSlice,
} from '../../application/backfill';
import { ENV, requireEnv } from '../environment';
import { logger, tracer } from '../observability';

/** The steps of statemachines/backfill.asl.json, one Lambda each (lambdas/registry.ts). */

const archive = new S3ArchiveObjects(tracer.captureAWSv3Client(s3Client()), requireEnv(ENV.archiveBucket));
const scanner = new DynamoDbEventStoreScanner(dynamoDbDocumentClient(tracer.captureAWSv3Client(dynamoDbClient())), requireEnv(ENV.eventStoreTable));

/** A slice stops scanning when this much of the Lambda's time is left, to write its object and return. */
const RESERVED_MS = 60_000;

export async function plan(event: { input: unknown; executionName: string; startedAt: string }, context: Context) {
  logger.addContext(context);
  const result = await planBackfill(archive, event);
  if (result.valid) logger.info('archive index up to date', { ...result.backfill, segments: undefined });
  else logger.warn('backfill input refused', { cause: result.cause });
  return result;
}

/** The index of one run, kept while the Lambda stays warm (every slice of every segment reads the same one). */
let cachedIndex: { runId: string; ids: Set<string> } | undefined;

export async function segment(event: SegmentSlice, context: Context) {
  logger.addContext(context);
  if (cachedIndex?.runId !== event.backfill.runId) {
    const index = await loadArchiveIndex(archive, event.backfill.indexKey);
    if (!index) throw new Error(`the archive index ${event.backfill.indexKey} is missing; the plan step writes it`);
    cachedIndex = { runId: event.backfill.runId, ids: archivedEventIds(index) };
  }
  return backfillSegmentSlice(
    { scanner, archive, archived: cachedIndex.ids, shouldStop: () => context.getRemainingTimeInMillis() < RESERVED_MS },
    event,
  );
}

export async function summary(state: { backfill?: BackfillPlan; segmentResults?: unknown; failure?: unknown }, context: Context) {
  logger.addContext(context);
  const result = summarizeBackfill(state, Date.now());
  if (result.succeeded) logger.info('backfill finished', { ...result.summary });
  else logger.error('backfill failed', { cause: result.cause });
  return result;
}
