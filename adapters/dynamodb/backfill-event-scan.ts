import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventStoreScanner, EventStoreScanPage } from '../../application/backfill';
import { throttledAs } from '../throttling';
import { toEnvelope } from './event-store';

/** Scan page size: small enough that a slice can stop close to its time budget. */
const PAGE_LIMIT = 1_000;

/** Reads the event store (one item per event) by parallel Scan segment, page by page. */
export class DynamoDbEventStoreScanner implements EventStoreScanner {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async scan(segment: number, totalSegments: number, cursor: Record<string, unknown> | undefined): Promise<EventStoreScanPage> {
    const page = await throttledAs(`scan segment ${segment}`, () =>
      this.documents.send(
        new ScanCommand({
          TableName: this.tableName,
          Segment: segment,
          TotalSegments: totalSegments,
          ExclusiveStartKey: cursor,
          Limit: PAGE_LIMIT,
        }),
      ),
    );
    return { events: (page.Items ?? []).map(toEnvelope), ...(page.LastEvaluatedKey ? { cursor: page.LastEvaluatedKey } : {}) };
  }
}
