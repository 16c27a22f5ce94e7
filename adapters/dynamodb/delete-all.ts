import { BatchWriteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inParallel } from './packed-writes';

const SEGMENTS = 4;
/**
 * Items a Scan page evaluates (before its filter), instead of DynamoDB's 1 MB page: a short request each, so that
 * the read API's GetItems are not queued behind a long one (DynamoDB Local serves one table from one process).
 */
export const SCAN_PAGE_LIMIT = 500;
const BATCH = 25;
/** BatchWriteItems in flight per Scan segment (SEGMENTS x this in all): a delete of 25 keys is a short request. */
const DELETES_PER_SEGMENT = 3;
/** Keys of generations > 0 and the generation pointer all start with this (domain/projections/generations.ts). */
const GENERATED_KEY_START = '#gen';

/** Deletes every item of a table by key: a parallel Scan (keys only) feeding BatchWriteItem. */
export async function deleteAllItems(documents: DynamoDBDocumentClient, tableName: string, keyNames: readonly string[]): Promise<number> {
  return deleteScanned(documents, tableName, keyNames, {});
}

/** Deletes the items of one generation of a projection table (keyed by `keyName` alone). */
export async function deleteGenerationItems(documents: DynamoDBDocumentClient, tableName: string, keyName: string, keyPrefix: string): Promise<number> {
  return deleteScanned(documents, tableName, [keyName], generationsFilter([keyPrefix]));
}

/** Deletes every item whose key (`keyName`, the table's only key) starts with `keyPrefix` (not empty). */
export async function deleteItemsWithKeyPrefix(documents: DynamoDBDocumentClient, tableName: string, keyName: string, keyPrefix: string): Promise<number> {
  if (keyPrefix === '') throw new RangeError('deleteItemsWithKeyPrefix needs a prefix: deleteAllItems deletes everything');
  return deleteScanned(documents, tableName, [keyName], { FilterExpression: 'begins_with(#k0, :prefix)', ExpressionAttributeValues: { ':prefix': keyPrefix } });
}

/**
 * The items of several generations at once (ONE parallel Scan of the table, however many generations share it),
 * with their key and the given attributes, by key prefix. A key belongs to the longest prefix it starts with;
 * '' (generation 0) takes the keys of no generated prefix.
 */
export async function scanGenerations(
  documents: DynamoDBDocumentClient,
  tableName: string,
  keyName: string,
  keyPrefixes: readonly string[],
  attributes: readonly string[],
): Promise<Map<string, Record<string, unknown>[]>> {
  const byPrefix = new Map(keyPrefixes.map((prefix) => [prefix, [] as Record<string, unknown>[]]));
  const generated = [...byPrefix.keys()].filter((prefix) => prefix !== '').sort((a, b) => b.length - a.length);
  await scanPages(documents, tableName, [keyName, ...attributes], generationsFilter(keyPrefixes), async (page) => {
    for (const item of page) {
      const key = String(item[keyName]);
      const prefix = generated.find((p) => key.startsWith(p)) ?? (key.startsWith(GENERATED_KEY_START) ? undefined : '');
      if (prefix !== undefined) byPrefix.get(prefix)?.push(item);
    }
  });
  return byPrefix;
}

interface ScanFilter {
  readonly FilterExpression?: string;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** Rows of any of the generations (key prefixes); generation 0 is unprefixed: everything but the others and the pointer. */
function generationsFilter(keyPrefixes: readonly string[]): ScanFilter {
  const values: Record<string, unknown> = {};
  const conditions = [...new Set(keyPrefixes)].map((prefix, i) => {
    if (prefix === '') {
      values[':generated'] = GENERATED_KEY_START;
      return 'NOT begins_with(#k0, :generated)';
    }
    values[`:prefix${i}`] = prefix;
    return `begins_with(#k0, :prefix${i})`;
  });
  return { FilterExpression: conditions.join(' OR '), ExpressionAttributeValues: values };
}

async function deleteScanned(documents: DynamoDBDocumentClient, tableName: string, keyNames: readonly string[], filter: ScanFilter): Promise<number> {
  let deleted = 0;
  await scanPages(documents, tableName, keyNames, filter, async (items) => {
    const keys = items.map((item) => Object.fromEntries(keyNames.map((name) => [name, item[name]])));
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < keys.length; i += BATCH) batches.push(keys.slice(i, i + BATCH));
    await inParallel(batches, DELETES_PER_SEGMENT, (batch) => deleteBatch(documents, tableName, batch));
    deleted += keys.length;
  });
  return deleted;
}

async function scanPages(
  documents: DynamoDBDocumentClient,
  tableName: string,
  attributeNames: readonly string[],
  filter: ScanFilter,
  onPage: (items: Record<string, unknown>[]) => Promise<void>,
): Promise<void> {
  const names = Object.fromEntries(attributeNames.map((name, i) => [`#k${i}`, name]));
  await Promise.all(
    Array.from({ length: SEGMENTS }, async (_, segment) => {
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(
          new ScanCommand({
            TableName: tableName,
            Segment: segment,
            TotalSegments: SEGMENTS,
            Limit: SCAN_PAGE_LIMIT,
            ProjectionExpression: Object.keys(names).join(', '),
            ExpressionAttributeNames: names,
            ExclusiveStartKey: startKey,
            ...filter,
          }),
        );
        await onPage(page.Items ?? []);
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }),
  );
}

async function deleteBatch(documents: DynamoDBDocumentClient, tableName: string, keys: Record<string, unknown>[]): Promise<void> {
  let requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    // Unprocessed items (throttling) are sent again with jittered exponential backoff, as AWS recommends.
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1_000, 25 * 2 ** attempt)));
    const result = await documents.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
    requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
  }
}
