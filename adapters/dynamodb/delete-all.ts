import { BatchWriteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const SEGMENTS = 4;
const BATCH = 25;

/** Deletes every item of a table by key: a parallel Scan (keys only) feeding BatchWriteItem. */
export async function deleteAllItems(documents: DynamoDBDocumentClient, tableName: string, keyNames: readonly string[]): Promise<number> {
  const names = Object.fromEntries(keyNames.map((name, i) => [`#k${i}`, name]));
  const counts = await Promise.all(
    Array.from({ length: SEGMENTS }, async (_, segment) => {
      let deleted = 0;
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
          }),
        );
        const keys = (page.Items ?? []).map((item) => Object.fromEntries(keyNames.map((name) => [name, item[name]])));
        for (let i = 0; i < keys.length; i += BATCH) await deleteBatch(documents, tableName, keys.slice(i, i + BATCH));
        deleted += keys.length;
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      return deleted;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

async function deleteBatch(documents: DynamoDBDocumentClient, tableName: string, keys: Record<string, unknown>[]): Promise<void> {
  let requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
  for (let attempt = 0; requests.length > 0; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
    const result = await documents.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
    requests = (result.UnprocessedItems?.[tableName] ?? []) as typeof requests;
  }
}
