import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import type { KinesisStreamRecord } from 'aws-lambda';
import { EventEnvelope } from '../../domain/events';
import { logger } from '../observability';

/**
 * A Powertools batch processor for Kinesis records whose Data is an EventEnvelope: each record is validated
 * (Kinesis record shape, base64, JSON, envelope schema) before the record handler sees it, and one that fails
 * is reported as a batch item failure with the parse error, like any other failed record.
 */
export function envelopeBatchProcessor(): BatchProcessor {
  return new BatchProcessor(EventType.KinesisDataStreams, { parser, innerSchema: EventEnvelope, transformer: 'base64', logger });
}

/** A Kinesis record after the processor's parsing: Data is the envelope. */
export type EnvelopeRecord = Omit<KinesisStreamRecord, 'kinesis'> & {
  kinesis: Omit<KinesisStreamRecord['kinesis'], 'data'> & { data: EventEnvelope };
};
