import { dynamoDbClient, dynamoDbDocumentClient } from '../../adapters/aws-clients';
import { DynamoDbPositionStore } from '../../adapters/dynamodb/consumer-positions-table';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { claimingConsumer } from '../../application/claiming-consumer';
import { CartSequencer, type CartPosition } from '../../application/sequencer';
import type { EventEnvelope } from '../../domain/events';
import { ENV, requireEnv } from '../environment';
import { tracer } from '../observability';

export const EVENT_LOG_CONSUMER = 'event-log';

/**
 * The event log as a sequenced consumer: its positions in the consumer-positions table, gaps caught up from the
 * event store, each cart's events written at least once and in version order by `write` (claimingConsumer).
 */
export function eventLogSequencer(write: (cartId: string, events: readonly EventEnvelope[]) => void): CartSequencer<CartPosition> {
  const documents = dynamoDbDocumentClient(tracer.captureAWSv3Client(dynamoDbClient()));
  const positions = new DynamoDbPositionStore(documents, requireEnv(ENV.consumerPositionsTable), EVENT_LOG_CONSUMER);
  return new CartSequencer(claimingConsumer(EVENT_LOG_CONSUMER, positions, write), new DynamoDbEventStore(documents, requireEnv(ENV.eventStoreTable)));
}
