import { DescribeTableCommand, ResourceNotFoundException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SeedTablePage, SeedTableSource } from '../../application/import-seed';
import type { SeedTableLayout } from '../../domain/cdc/seed-events';

/** The key schema each seed layout was written with (NOTES: the seed's Terraform and its later code). */
export const SEED_TABLE_KEYS: Record<SeedTableLayout, { readonly hash: string; readonly range?: string }> = {
  'aggregate-item': { hash: 'Uuid' },
  'event-per-item': { hash: 'AggregateUuid', range: 'Version' },
};

/** Scan page size: a page's items are written before the next page is read, so progress shows often. */
const PAGE_LIMIT = 200;

export class SeedTableMismatch extends Error {
  override readonly name = 'SeedTableMismatch';
}

/** Reads a seed table by parallel Scan segments, page by page, items unmarshalled to plain values. */
export class DynamoDbSeedTableScan implements SeedTableSource {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async scan(segment: number, totalSegments: number, cursor: Record<string, unknown> | undefined): Promise<SeedTablePage> {
    const page = await this.documents.send(
      new ScanCommand({ TableName: this.tableName, Segment: segment, TotalSegments: totalSegments, ExclusiveStartKey: cursor, Limit: PAGE_LIMIT }),
    );
    return { items: page.Items ?? [], ...(page.LastEvaluatedKey ? { cursor: page.LastEvaluatedKey } : {}) };
  }
}

/**
 * Checks, before anything is read, that the table exists and has the key schema of the layout it is said to
 * have: a wrong --layout would otherwise report every item as bad. Returns its approximate item count.
 */
export async function checkSeedTable(client: DynamoDBClient, tableName: string, layout: SeedTableLayout): Promise<{ approximateItems: number }> {
  let table;
  try {
    table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException') {
      throw new SeedTableMismatch(`there is no table "${tableName}"`);
    }
    throw error;
  }
  const keys = table?.KeySchema ?? [];
  const hash = keys.find((key) => key.KeyType === 'HASH')?.AttributeName;
  const range = keys.find((key) => key.KeyType === 'RANGE')?.AttributeName;
  const expected = SEED_TABLE_KEYS[layout];
  if (hash !== expected.hash || range !== expected.range) {
    const describe = (h?: string, r?: string) => (r ? `${h} + ${r}` : `${h}`);
    const fits = (Object.entries(SEED_TABLE_KEYS) as [SeedTableLayout, { hash: string; range?: string }][]).find(([, k]) => k.hash === hash && k.range === range)?.[0];
    throw new SeedTableMismatch(
      `table "${tableName}" is keyed by ${describe(hash, range)}, but the ${layout} layout is keyed by ${describe(expected.hash, expected.range)}` +
        (fits ? `; it looks like --layout ${fits}` : ''),
    );
  }
  return { approximateItems: table?.ItemCount ?? 0 };
}
