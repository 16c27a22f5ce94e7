import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventImport, EventImportTarget } from '../../application/import-seed';
import type { EventEnvelope } from '../../domain/events';
import { toItem } from './event-store';
import { EVENT_STORE_KEY } from './event-store-table';

/**
 * Writes imported events into the event store, each with one conditional Put ("only if this version is not
 * there"), the item the store's own appends write, so that the table stream carries it through the CDC like any
 * other. When the version is taken, the item that holds it comes back with the failure
 * (ReturnValuesOnConditionCheckFailure), which tells an earlier run's import from another event, without a read.
 */
export class DynamoDbEventImport implements EventImportTarget {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async importEvent(event: EventEnvelope): Promise<EventImport> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: toItem(event),
          ConditionExpression: 'attribute_not_exists(#version)',
          ExpressionAttributeNames: { '#version': EVENT_STORE_KEY.sortKey },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'imported' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existingEventId = String(error.Item?.eventId?.S ?? '');
      return existingEventId === event.eventId ? { outcome: 'already-imported' } : { outcome: 'conflict', existingEventId };
    }
  }
}
