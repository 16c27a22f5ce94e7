import { BatchWriteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { cartCursorKey, CART_SUMMARY_KEY, ITEM_POPULARITY_KEY } from '../../adapters/dynamodb/projection-tables';
import { mapLimit } from '../../application/sequencer';
import type { LocalConfig } from '../../local/config';

/**
 * Deletes the live read-model rows of the carts whose id starts with `cartIdPrefix` (their cart-summary item and
 * their item-popularity cursor; sku rows are shared and stay). An entry that replays into the stack's own
 * projections calls it when done, so that the carts it invented do not weigh on the entries after it (a rebuild
 * would otherwise catch up thousands of carts that the event store does not have).
 */
export async function deleteCartRows(documents: DynamoDBDocumentClient, resources: LocalConfig['resources'], cartIdPrefix: string): Promise<number> {
  const cartIds: string[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({
        TableName: resources.cartSummaryTable,
        ProjectionExpression: '#id',
        FilterExpression: 'begins_with(#id, :prefix)',
        ExpressionAttributeNames: { '#id': CART_SUMMARY_KEY.partitionKey },
        ExpressionAttributeValues: { ':prefix': cartIdPrefix },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of page.Items ?? []) cartIds.push(String(item[CART_SUMMARY_KEY.partitionKey]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  const batches: { table: string; keys: Record<string, string>[] }[] = [];
  for (let i = 0; i < cartIds.length; i += 25) {
    const ids = cartIds.slice(i, i + 25);
    batches.push({ table: resources.cartSummaryTable, keys: ids.map((id) => ({ [CART_SUMMARY_KEY.partitionKey]: id })) });
    batches.push({ table: resources.itemPopularityTable, keys: ids.map((id) => ({ [ITEM_POPULARITY_KEY.partitionKey]: cartCursorKey(id) })) });
  }
  await mapLimit(batches, 4, async ({ table, keys }) => {
    let requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
    for (let attempt = 0; requests.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
      const result = await documents.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
      requests = (result.UnprocessedItems?.[table] ?? []) as typeof requests;
    }
  });
  return cartIds.length;
}
