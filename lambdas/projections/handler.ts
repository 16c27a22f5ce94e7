import { processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { METRIC } from '../metric-names';
import { envelopeBatchProcessor, type EnvelopeRecord } from '../kinesis/envelope-batch';
import { logger, metrics, publishStoredMetrics } from '../observability';
import { projectionsFromEnvironment } from './wiring';

const projections = projectionsFromEnvironment();
const processor = envelopeBatchProcessor();

/**
 * Kinesis -> cart-summary and item-popularity. Each record is applied to both projections (duplicates skipped,
 * gaps caught up from the event store); a record that fails is reported in batchItemFailures, and the event
 * source mapping retries from the first one. Replayed events are applied like any other: a projection is a pure fold.
 */
export async function handler(event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> {
  logger.addContext(context);
  let applied = 0;
  let skipped = 0;
  // Records run concurrently (Powertools' default); CartProjections queues one cart's records into one
  // version-ordered run, so a cart costs one conditional write per projection per batch, not one per event.
  const applyRecord = async (record: EnvelopeRecord) => {
    try {
      const outcome = await projections.applyOne(record.kinesis.data);
      if (outcome === 'applied') applied++;
      else skipped++;
    } catch (error) {
      logger.error('event not applied; the record is reported for retry', {
        error: error as Error,
        eventId: record.kinesis.data.eventId,
        aggregateId: record.kinesis.data.aggregateId,
        version: record.kinesis.data.version,
        sequenceNumber: record.kinesis.sequenceNumber,
      });
      throw error;
    }
  };
  try {
    return await processPartialResponse(event, applyRecord, processor, { context, throwOnFullBatchFailure: false });
  } finally {
    metrics.addMetric(METRIC.projectionEventsApplied.name, METRIC.projectionEventsApplied.unit, applied);
    metrics.addMetric(METRIC.projectionDuplicatesSkipped.name, METRIC.projectionDuplicatesSkipped.unit, skipped);
    publishStoredMetrics();
  }
}
