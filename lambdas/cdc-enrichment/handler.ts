import type { Context } from 'aws-lambda';
import { deadLetterQueueFrom } from '../../adapters/dead-letters/from-environment';
import { parseStoreLayout } from '../../domain/cdc/store-layout';
import type { EventEnvelope } from '../../domain/events/envelope';
import { ENV } from '../environment';
import { METRIC } from '../metric-names';
import { logger, metrics, publishStoredMetrics } from '../observability';
import { createEnrichment } from './enrich';

const enrich = createEnrichment({
  layout: parseStoreLayout(process.env[ENV.storeLayout]),
  deadLetters: deadLetterQueueFrom(process.env, { queueUrl: ENV.deadLetterQueueUrl, localFile: ENV.localDeadLetterFile }),
  onRecord: (change, events) => {
    metrics.addMetric(METRIC.eventsPerStreamRecord.name, METRIC.eventsPerStreamRecord.unit, events);
    if (change.approximateCreationDateTime !== undefined) {
      const lag = Math.max(0, Date.now() - change.approximateCreationDateTime * 1000);
      metrics.addMetric(METRIC.enrichmentLag.name, METRIC.enrichmentLag.unit, lag);
    }
  },
  onDeadLetter: (letter) => {
    logger.warn('stream record dead-lettered', { reason: letter.reason, ids: letter.ids });
    metrics.addMetric(METRIC.recordsDeadLettered.name, METRIC.recordsDeadLettered.unit, 1);
  },
});

/** EventBridge Pipe enrichment: DynamoDB stream records in, one event envelope per added event out (see enrich.ts). */
export async function handler(records: unknown, context: Context): Promise<EventEnvelope[]> {
  logger.addContext(context);
  try {
    const envelopes = await enrich(records);
    metrics.addMetric(METRIC.eventsPublished.name, METRIC.eventsPublished.unit, envelopes.length);
    return envelopes;
  } finally {
    publishStoredMetrics();
  }
}
