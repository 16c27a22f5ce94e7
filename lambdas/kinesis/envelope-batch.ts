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

/**
 * Record handlers run concurrently (Powertools' default), but one partition key's records must be handled in
 * stream order: each waits for the previous record of its key in this batch, and fails if that one failed, so
 * that no later event of a cart gets ahead of an earlier one that will be retried.
 */
export function inOrderPerPartitionKey<T>(handle: (record: EnvelopeRecord) => Promise<T>): (record: EnvelopeRecord) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return (record) => {
    const key = record.kinesis.partitionKey;
    const previous = tails.get(key) ?? Promise.resolve();
    const current = previous.then(
      () => handle(record),
      () => {
        throw new Error(`an earlier record of partition key ${key} failed in this batch; this one waits for its retry`);
      },
    );
    tails.set(key, current);
    current.catch(() => undefined); // the caller sees the failure; the chain only needs to know of it
    return current;
  };
}
