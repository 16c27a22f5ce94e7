import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDbDocumentClient } from '../../adapters/aws-clients';
import { deleteItemsWithKeyPrefix } from '../../adapters/dynamodb/delete-all';
import { encodeCursorLines } from '../../adapters/dynamodb/item-popularity-table';
import { MAX_TRANSACTION_ITEMS, type TransactItem } from '../../adapters/dynamodb/packed-writes';
import { cartCursorKey, CART_SUMMARY_KEY, ITEM_POPULARITY_KEY } from '../../adapters/dynamodb/projection-tables';
import { mapLimit } from '../../application/sequencer';
import { foldCart, toCartSummary, toVersionedCartEvent } from '../../domain/projections';
import type { LocalConfig } from '../../local/config';
import { localTables } from '../../local/resources';
import { EVENTS_PER_CART } from './archive';
import { cartEnvelopes } from './cart-events';
import { dropTables, freshTable } from './tables';

/**
 * Deletes the live read-model rows of the carts whose id starts with `cartIdPrefix` (their cart-summary item and
 * their item-popularity cursor; sku rows are shared and stay). An entry that replays into the stack's own
 * projections calls it when done, so that the carts it invented do not weigh on the entries after it (a rebuild
 * would otherwise catch up thousands of carts that the event store does not have). Returns how many carts.
 */
export async function deleteCartRows(documents: DynamoDBDocumentClient, resources: LocalConfig['resources'], cartIdPrefix: string): Promise<number> {
  const [carts] = await Promise.all([
    deleteItemsWithKeyPrefix(documents, resources.cartSummaryTable, CART_SUMMARY_KEY.partitionKey, cartIdPrefix),
    deleteItemsWithKeyPrefix(documents, resources.itemPopularityTable, ITEM_POPULARITY_KEY.partitionKey, cartCursorKey(cartIdPrefix)),
  ]);
  return carts;
}

/**
 * The least DynamoDB work a replay of `carts` fresh carts (EVENTS_PER_CART events each) must do: for each cart, one
 * conditional Put of its final cart-summary row and one of its item-popularity cursor, in transactions of 100 Puts,
 * `concurrency` transactions at a time, into two fresh tables shaped like the projection tables (dropped after).
 * No reading, folding of events, sequencing or sku rows: what is left when everything but the writes is free.
 */
export async function timeProjectionWriteFloor(client: DynamoDBClient, config: LocalConfig, carts: number, concurrency: number): Promise<{ seconds: number; items: number }> {
  const documents = dynamoDbDocumentClient(client);
  const template = (name: string) => localTables(config).find((table) => table.TableName === name)!;
  const summaryTable = await freshTable(client, { ...template(config.resources.cartSummaryTable), TableName: 'bench-write-floor-summary' });
  const popularityTable = await freshTable(client, { ...template(config.resources.itemPopularityTable), TableName: 'bench-write-floor-popularity' });
  try {
    const puts: TransactItem[] = [];
    for (let cart = 0; cart < carts; cart++) {
      const cartId = `floor-${randomUUID()}`;
      const cursor = foldCart(cartEnvelopes(cartId, 0, EVENTS_PER_CART).map(toVersionedCartEvent));
      const summary = toCartSummary(cartId, cursor)!;
      puts.push({ Put: { TableName: summaryTable, Item: { ...summary, items: [...summary.items], updatedAt: new Date().toISOString() }, ConditionExpression: 'attribute_not_exists(cartId)' } });
      const lines = encodeCursorLines(cursor.state);
      puts.push({ Put: { TableName: popularityTable, Item: { [ITEM_POPULARITY_KEY.partitionKey]: cartCursorKey(cartId), cartId, version: cursor.version, status: summary.status, lines }, ConditionExpression: 'attribute_not_exists(pk)' } });
    }
    const transactions: TransactItem[][] = [];
    for (let i = 0; i < puts.length; i += MAX_TRANSACTION_ITEMS) transactions.push(puts.slice(i, i + MAX_TRANSACTION_ITEMS));
    const started = performance.now();
    await mapLimit(transactions, concurrency, (TransactItems) => documents.send(new TransactWriteCommand({ TransactItems })));
    return { seconds: (performance.now() - started) / 1000, items: puts.length };
  } finally {
    await dropTables(client, [summaryTable, popularityTable]);
  }
}
