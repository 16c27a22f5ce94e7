import { ConditionalCheckFailedException, TransactionCanceledException, type ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { VersionConflict, type AppendResult, type EventStore, type StoredStream } from '../../application/event-store';
import type { EventEnvelope } from '../../domain/events';
import { EVENT_STORE_KEY } from './event-store-table';

const NEW_ITEM_ONLY = 'attribute_not_exists(#version)';

/** DynamoDB allows 100 items per transaction. */
export const MAX_EVENTS_PER_APPEND = 100;

export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async readStream(aggregateId: string, afterVersion = 0): Promise<StoredStream> {
    const events: EventEnvelope[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#id = :id AND #version > :after',
          ExpressionAttributeNames: { '#id': EVENT_STORE_KEY.partitionKey, '#version': EVENT_STORE_KEY.sortKey },
          ExpressionAttributeValues: { ':id': aggregateId, ':after': afterVersion },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) events.push(toEnvelope(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return { events, version: events.at(-1)?.version ?? afterVersion };
  }

  async appendToStream(aggregateId: string, expectedVersion: number, events: readonly EventEnvelope[]): Promise<AppendResult> {
    if (events.length === 0) return this.confirmVersion(aggregateId, expectedVersion);
    if (events.length > MAX_EVENTS_PER_APPEND) throw new RangeError(`at most ${MAX_EVENTS_PER_APPEND} events per append`);
    events.forEach((event, index) => {
      if (event.aggregateId !== aggregateId || event.version !== expectedVersion + index + 1) {
        throw new RangeError(`event ${event.eventId} does not continue ${aggregateId} at version ${expectedVersion + index + 1}`);
      }
    });
    const version = expectedVersion + events.length;
    try {
      // One event is one conditional Put: half the write cost of a transaction, and just as atomic.
      if (events.length === 1) {
        const result = await this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: toItem(events[0]!),
            ConditionExpression: NEW_ITEM_ONLY,
            ExpressionAttributeNames: { '#version': EVENT_STORE_KEY.sortKey },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        return { version, consumedWriteUnits: writeUnits(result.ConsumedCapacity) };
      }
      const result = await this.documents.send(
        new TransactWriteCommand({
          TransactItems: events.map((event) => ({
            Put: {
              TableName: this.tableName,
              Item: toItem(event),
              ConditionExpression: NEW_ITEM_ONLY,
              ExpressionAttributeNames: { '#version': EVENT_STORE_KEY.sortKey },
            },
          })),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return { version, consumedWriteUnits: writeUnits(result.ConsumedCapacity) };
    } catch (error) {
      if (isConditionFailure(error)) throw new VersionConflict(aggregateId, expectedVersion);
      throw error;
    }
  }

  /**
   * An empty append appends nothing but keeps the promise of every append: it succeeds only on a stream at
   * expectedVersion (a consistent read of its last event), so a command that decided nothing never answers a
   * version it merely remembered.
   */
  private async confirmVersion(aggregateId: string, expectedVersion: number): Promise<AppendResult> {
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#id = :id',
        ExpressionAttributeNames: { '#id': EVENT_STORE_KEY.partitionKey, '#version': EVENT_STORE_KEY.sortKey },
        ExpressionAttributeValues: { ':id': aggregateId },
        ProjectionExpression: '#version',
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const stored = Number(page.Items?.[0]?.[EVENT_STORE_KEY.sortKey] ?? 0);
    if (stored !== expectedVersion) throw new VersionConflict(aggregateId, expectedVersion);
    return { version: expectedVersion };
  }
}

export function toItem(event: EventEnvelope): Record<string, unknown> {
  return {
    aggregateId: event.aggregateId,
    version: event.version,
    eventId: event.eventId,
    aggregateType: event.aggregateType,
    type: event.type,
    schemaVersion: event.schemaVersion,
    occurredAt: event.occurredAt,
    data: event.data,
  };
}

export function toEnvelope(item: Record<string, unknown>): EventEnvelope {
  return {
    eventId: String(item.eventId),
    aggregateType: String(item.aggregateType),
    aggregateId: String(item.aggregateId),
    version: Number(item.version),
    type: String(item.type),
    schemaVersion: Number(item.schemaVersion),
    occurredAt: String(item.occurredAt),
    data: (item.data ?? {}) as Record<string, unknown>,
  };
}

function writeUnits(capacity: ConsumedCapacity | ConsumedCapacity[] | undefined): number | undefined {
  const all = Array.isArray(capacity) ? capacity : capacity ? [capacity] : [];
  return all.length === 0 ? undefined : all.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
}

function isConditionFailure(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  return (
    error instanceof TransactionCanceledException &&
    (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed')
  );
}
