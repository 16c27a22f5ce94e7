import { processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { envelopeBatchProcessor, type EnvelopeRecord } from '../kinesis/envelope-batch';
import { logger } from '../observability';

/**
 * The event log's own logger: its lines are the function's output, so they are written at INFO whatever
 * POWERTOOLS_LOG_LEVEL says for diagnostics (the constructor's level wins over that variable).
 */
const eventLog = new Logger({ serviceName: 'cart-event-log', logLevel: 'INFO' });
const processor = envelopeBatchProcessor();

/**
 * Kinesis -> one structured JSON log line per event. Replayed events (metadata.replayed) are logged too, as
 * `cart event replayed`, so that a replay is visible in the log yet never mistaken for new activity.
 */
export async function handler(event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> {
  logger.addContext(context);
  return processPartialResponse(event, logRecord, processor, { context, processInParallel: false, throwOnFullBatchFailure: false });
}

async function logRecord(record: EnvelopeRecord): Promise<void> {
  const envelope = record.kinesis.data;
  const replayed = envelope.metadata?.replayed === true;
  eventLog.info(replayed ? 'cart event replayed' : 'cart event', {
    eventId: envelope.eventId,
    aggregateType: envelope.aggregateType,
    aggregateId: envelope.aggregateId,
    version: envelope.version,
    type: envelope.type,
    schemaVersion: envelope.schemaVersion,
    occurredAt: envelope.occurredAt,
    data: envelope.data,
    replayed,
    kinesisSequenceNumber: record.kinesis.sequenceNumber,
    sourceSequenceNumber: envelope.metadata?.sequenceNumber,
  });
}
