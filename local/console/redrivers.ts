import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { DeadLetter } from '../../application/dead-letters';
import type { Redrivers, StoredDeadLetter } from '../../application/dead-letter-redrive';
import { KinesisEventPublisher } from '../../adapters/kinesis/event-publisher';
import type { KinesisStreamTail } from '../../adapters/kinesis/stream-tail';
import { parseStoreLayout } from '../../domain/cdc/store-layout';
import { EventEnvelope } from '../../domain/events';
import { createEnrichment } from '../../lambdas/cdc-enrichment/enrich';
import { KINESIS_CONSUMERS, type ConsumerName } from '../../lambdas/consumers';
import { ENV } from '../../lambdas/environment';
import type { LocalConfig } from '../config';
import { invokeLocal, loadHandler, type AnyHandler } from '../lambda/invoke';
import { toKinesisStreamEvent } from '../kinesis-consumer/stream-event';

/**
 * How each kind of local dead letter goes back into the pipeline (one function per kind, so that a change of a
 * letter's shape is adapted in one place):
 * - a stream record through the enrichment (the same code the Pipe invokes) and the Pipe's target path (the same
 *   publisher, one Kinesis record per event, partition key = cart id). A record the enrichment still cannot split
 *   fails the redrive instead of becoming a second letter;
 * - an envelope through the Pipe's target path;
 * - a consumer batch through that consumer's handler; a batch item failure or an error fails the redrive. A letter
 *   that holds only the batch's metadata (shard and sequence range, as AWS's on-failure destinations send) is
 *   read back from the stream first.
 */
export function localRedrivers(config: LocalConfig, kinesis: KinesisClient, tail: KinesisStreamTail): Redrivers {
  const publisher = new KinesisEventPublisher(kinesis, config.resources.eventsStream);
  const publish = async (envelopes: readonly EventEnvelope[]) => {
    const { failed } = await publisher.publish(envelopes);
    if (failed.length > 0) throw new Error(`Kinesis refused ${failed.length} of ${envelopes.length} event(s): ${failed[0]!.reason}`);
  };
  const handlers = new Map<ConsumerName, AnyHandler>();

  return {
    'stream-record': async (letter) => {
      const refused: DeadLetter[] = [];
      const enrich = createEnrichment({ layout: parseStoreLayout(process.env[ENV.storeLayout]), deadLetters: { send: async (letters) => void refused.push(...letters) } });
      const envelopes = await enrich([letter.payload]);
      if (refused.length > 0) throw new Error(`the enrichment still refuses the record: ${refused[0]!.reason}`);
      await publish(envelopes);
    },
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
