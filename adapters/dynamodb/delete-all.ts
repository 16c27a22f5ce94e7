import { BatchWriteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const SEGMENTS = 4;
const BATCH = 25;
/** Keys of generations > 0 and the generation pointer all start with this (domain/projections/generations.ts). */
const GENERATED_KEY_START = '#gen';

/** Deletes every item of a table by key: a parallel Scan (keys only) feeding BatchWriteItem. */
export async function deleteAllItems(documents: DynamoDBDocumentClient, tableName: string, keyNames: readonly string[]): Promise<number> {
  return deleteScanned(documents, tableName, keyNames, {});
}

/** Deletes the items of one generation of a projection table (keyed by `keyName` alone). */
export async function deleteGenerationItems(documents: DynamoDBDocumentClient, tableName: string, keyName: string, keyPrefix: string): Promise<number> {
  return deleteScanned(documents, tableName, [keyName], generationFilter(keyPrefix));
}

/** The items of one generation, with their key and the given attributes (a parallel Scan). */
export async function scanGeneration(documents: DynamoDBDocumentClient, tableName: string, keyName: string, keyPrefix: string, attributes: readonly string[]): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  await scanPages(documents, tableName, [keyName, ...attributes], generationFilter(keyPrefix), async (page) => {
    items.push(...page);
  });
  return items;
}

interface ScanFilter {
  readonly FilterExpression?: string;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

function generationFilter(keyPrefix: string): ScanFilter {
  // Generation 0 is unprefixed: everything but the other generations' rows and the pointer.
  return keyPrefix === ''
    ? { FilterExpression: 'NOT begins_with(#k0, :generated)', ExpressionAttributeValues: { ':generated': GENERATED_KEY_START } }
    : { FilterExpression: 'begins_with(#k0, :prefix)', ExpressionAttributeValues: { ':prefix': keyPrefix } };
}

async function deleteScanned(documents: DynamoDBDocumentClient, tableName: string, keyNames: readonly string[], filter: ScanFilter): Promise<number> {
  let deleted = 0;
  await scanPages(documents, tableName, keyNames, filter, async (items) => {
    const keys = items.map((item) => Object.fromEntries(keyNames.map((name) => [name, item[name]])));
    for (let i = 0; i < keys.length; i += BATCH) await deleteBatch(documents, tableName, keys.slice(i, i + BATCH));
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
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
    const result = await documents.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
    requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
  }
}
