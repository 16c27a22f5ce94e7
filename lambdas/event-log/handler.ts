import { processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { isCartEnvelope } from '../../domain/projections';
import type { EventEnvelope } from '../../domain/events';
import { envelopeBatchProcessor, type EnvelopeRecord } from '../kinesis/envelope-batch';
import { logger } from '../observability';
import { eventLogSequencer } from './wiring';

/**
 * The event log's own logger: its lines are the function's output, so they are written at INFO whatever
 * POWERTOOLS_LOG_LEVEL says for diagnostics (the constructor's level wins over that variable).
 */
const eventLog = new Logger({ serviceName: 'cart-event-log', logLevel: 'INFO' });
const processor = envelopeBatchProcessor();
const sequencer = eventLogSequencer((_cartId, events) => {
  for (const envelope of events) writeLine(envelope);
});

/**
 * Kinesis -> one structured JSON log line per cart event, AT LEAST ONCE and in version order per cart, whatever
 * Kinesis delivers twice or out of order (the CartSequencer: duplicates dropped, gaps caught up from the event
 * store, each run written and then the log's position moved by a conditional write: a line is repeated only when
 * the invocation dies between the two or two deliveries of one run overlap, and a repeat has the same eventId;
 * docs/delivery-guarantees.md). Replayed events
 * (metadata.replayed) are copies of events already logged, so they are duplicates here. A record whose cart
 * failed (e.g. history not yet readable) is reported in batchItemFailures and retried.
 */
export async function handler(event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> {
  logger.addContext(context);
  return processPartialResponse(event, logRecord, processor, { context, throwOnFullBatchFailure: false });
}

async function logRecord(record: EnvelopeRecord): Promise<void> {
  const envelope = record.kinesis.data;
  if (!isCartEnvelope(envelope)) {
    // Not a cart's event: no history to order it against; logged as it comes.
    writeLine(envelope);
    return;
  }
  await sequencer.offer(envelope);
}

function writeLine(envelope: EventEnvelope): void {
  eventLog.info('cart event', {
    eventId: envelope.eventId,
    aggregateType: envelope.aggregateType,
    aggregateId: envelope.aggregateId,
    version: envelope.version,
    type: envelope.type,
    schemaVersion: envelope.schemaVersion,
    occurredAt: envelope.occurredAt,
    data: envelope.data,
    sourceSequenceNumber: envelope.metadata?.sequenceNumber,
  });
}
