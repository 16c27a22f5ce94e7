import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { z } from 'zod';
import type { DeadLetter } from '../../application/dead-letters';
import type { Redrivers, StoredDeadLetter } from '../../application/dead-letter-redrive';
import { JsonLinesDeadLetterStore } from '../../adapters/dead-letters/json-lines-dead-letter-store';
import { KinesisEventPublisher } from '../../adapters/kinesis/event-publisher';
import type { KinesisStreamTail } from '../../adapters/kinesis/stream-tail';
import { parseStoreLayout } from '../../domain/cdc/store-layout';
import { EventEnvelope } from '../../domain/events';
import { createEnrichment } from '../../lambdas/cdc-enrichment/enrich';
import { cdcPipeSettings } from '../../lambdas/cdc-enrichment/pipe-settings';
import { KINESIS_CONSUMERS, type ConsumerName } from '../../lambdas/consumers';
import { ENV } from '../../lambdas/environment';
import { localDeadLetterFile, type LocalConfig } from '../config';
import { invokeLocal, loadHandler, type AnyHandler } from '../lambda/invoke';
import { toKinesisStreamEvent } from '../kinesis-consumer/stream-event';
import { compileFilters } from '../pipe/event-pattern';
import { streamRecordsBetween, toPipeRecord } from '../pipe/stream-source';

/**
 * How each kind of local dead letter goes back into the pipeline (one function per kind, so that a change of a
 * letter's shape is adapted in one place):
 * - a stream record through the enrichment (the same code the Pipe invokes) and the Pipe's target path (the same
 *   publisher, one Kinesis record per event, partition key = cart id). A record the enrichment still cannot split
 *   fails the redrive instead of becoming a second letter;
 * - an envelope through the Pipe's target path;
 * - a Pipe batch (only its shard and sequence range, as AWS's Pipes and on-failure destinations send it): its
 *   records are read back from the table's stream, filtered with the Pipe's filter criteria, and go the way of a
 *   stream record (a record the enrichment refuses becomes its own letter, as in the Pipe). When the stream no
 *   longer holds the whole range (trimmed after 24 hours, or the shard gone), the redrive fails and says how to
 *   recover from the event store instead;
 * - a consumer batch through that consumer's handler; a batch item failure or an error fails the redrive. A letter
 *   that holds only the batch's metadata (shard and sequence range, as AWS's on-failure destinations send) is
 *   read back from the stream first.
 */
export function localRedrivers(config: LocalConfig, kinesis: KinesisClient, tail: KinesisStreamTail, streams: DynamoDBStreamsClient): Redrivers {
  const publisher = new KinesisEventPublisher(kinesis, config.resources.eventsStream);
  const publish = async (envelopes: readonly EventEnvelope[]) => {
    const { failed } = await publisher.publish(envelopes);
    if (failed.length > 0) throw new Error(`Kinesis refused ${failed.length} of ${envelopes.length} event(s): ${failed[0]!.reason}`);
  };
  const deadLetters = new JsonLinesDeadLetterStore(localDeadLetterFile(config));
  /**
   * The way of the Pipe: the records through the enrichment, its response into Kinesis. A record the enrichment
   * refuses either fails the redrive (a letter of that very record: it stays as it is) or, in a batch, goes to the
   * dead letters as the Pipe's enrichment would send it, while the batch's other records go on.
   */
  const enrichAndPublish = async (records: readonly unknown[], refusedRecords: 'fail' | 'dead-letter') => {
    const refused: DeadLetter[] = [];
    const enrich = createEnrichment({ layout: parseStoreLayout(process.env[ENV.storeLayout]), deadLetters: { send: async (letters) => void refused.push(...letters) } });
    const envelopes = await enrich([...records]);
    if (refused.length > 0 && refusedRecords === 'fail') throw new Error(`the enrichment still refuses the record: ${refused[0]!.reason}`);
    await publish(envelopes);
    if (refused.length > 0) await deadLetters.send(refused);
  };
  const handlers = new Map<ConsumerName, AnyHandler>();

  return {
    'stream-record': async (letter) => enrichAndPublish([letter.payload], 'fail'),
    'pipe-batch': async (letter) => enrichAndPublish(await pipeBatchRecords(letter, streams), 'dead-letter'),
    envelope: async (letter) => {
      const parsed = EventEnvelope.safeParse(letter.payload);
      if (!parsed.success) throw new Error(`the payload is not an event envelope: ${parsed.error.issues[0]?.message}`);
      await publish([parsed.data]);
    },
    'consumer-batch': async (letter) => {
      const name = letter.source.slice('consumer:'.length);
      if (!Object.hasOwn(KINESIS_CONSUMERS, name)) throw new Error(`no consumer named "${name}"`);
      const consumer = name as ConsumerName;
      const lambda = KINESIS_CONSUMERS[consumer].lambda;
      if (!handlers.has(consumer)) handlers.set(consumer, loadHandler(lambda));
      const event = await consumerEvent(letter, tail);
      if (event.Records.length === 0) throw new Error('the letter names no record that the stream still holds');
      const response = await invokeLocal<KinesisStreamBatchResponse | undefined>(lambda, event, handlers.get(consumer));
      const failures = response?.batchItemFailures ?? [];
      if (failures.length > 0) throw new Error(`${lambda} reported ${failures.length} of ${event.Records.length} record(s) as failed again (first: ${failures[0]!.itemIdentifier})`);
    },
  };
}

async function consumerEvent(letter: StoredDeadLetter, tail: KinesisStreamTail): Promise<KinesisStreamEvent> {
  const payload = letter.payload as Partial<KinesisStreamEvent> | undefined;
  if (Array.isArray(payload?.Records)) return payload as KinesisStreamEvent;
  const ids = (letter.ids ?? {}) as { shardId?: string; startSequenceNumber?: string; endSequenceNumber?: string; streamArn?: string };
  if (!ids.shardId || !ids.startSequenceNumber || !ids.endSequenceNumber) throw new Error('the letter holds neither the records nor their shard and sequence range');
  const records = await tail.recordsBetween(ids.shardId, ids.startSequenceNumber, ids.endSequenceNumber);
  return toKinesisStreamEvent(records, { shardId: ids.shardId, streamArn: ids.streamArn ?? '', region: process.env.AWS_REGION ?? 'us-east-1' });
}

/** DDBStreamBatchInfo, as local/on-failure-record.ts writes it and AWS documents it. */
const PipeBatchInfo = z.object({
  shardId: z.string().min(1),
  startSequenceNumber: z.string().regex(/^\d+$/),
  endSequenceNumber: z.string().regex(/^\d+$/),
  batchSize: z.number().int().positive(),
  streamArn: z.string().min(1),
});

/** What the operator can do when the stream lost a batch: its events are still in the event store. */
const RANGE_GONE_ADVICE =
  'its events are still in the event store: run `npm run backfill` to write them to the archive, and/or a replay (`npm run replay`) to bring them to the consumers; the letter is kept';

/**
 * The records of a Pipe batch letter, read back from the stream as the Pipe had them (filtered with its filter
 * criteria). All of the range or nothing: a range the stream no longer holds whole fails with what to do instead.
 */
async function pipeBatchRecords(letter: StoredDeadLetter, streams: DynamoDBStreamsClient): Promise<Record<string, unknown>[]> {
  const parsed = PipeBatchInfo.safeParse((letter.payload as { DDBStreamBatchInfo?: unknown }).DDBStreamBatchInfo);
  if (!parsed.success) throw new Error(`the letter's DDBStreamBatchInfo is incomplete: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  const batch = parsed.data;
  const range = `shard ${batch.shardId}, sequence numbers ${batch.startSequenceNumber} to ${batch.endSequenceNumber}`;
  let records;
  try {
    records = await streamRecordsBetween(streams, batch.streamArn, batch.shardId, batch.startSequenceNumber, batch.endSequenceNumber);
  } catch (error) {
    const name = (error as Error).name;
    if (name === 'TrimmedDataAccessException' || name === 'ResourceNotFoundException') {
      throw new Error(`the table's stream no longer holds this batch (${range}: ${name}); ${RANGE_GONE_ADVICE}`);
    }
    throw error;
  }
  // The range holds at least the batch's records (the Pipe's filter may have left others out between them).
  if (records.length < batch.batchSize) {
    throw new Error(`the table's stream holds only ${records.length} of the batch's ${batch.batchSize} record(s) (${range}); ${RANGE_GONE_ADVICE}`);
  }
  const matchesFilter = compileFilters(cdcPipeSettings(parseStoreLayout(process.env[ENV.storeLayout])).filterPatterns);
  return records.map((record) => toPipeRecord(record, batch.streamArn)).filter(matchesFilter);
}
