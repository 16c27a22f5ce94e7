import { randomUUID } from 'node:crypto';
import { DynamoDBClient, CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDbDocumentClient } from '../adapters/aws-clients';
import { DynamoDbCartSummaryTable } from '../adapters/dynamodb/cart-summary-table';
import { DynamoDbItemPopularityTable } from '../adapters/dynamodb/item-popularity-table';
import { skuRowKey } from '../adapters/dynamodb/projection-tables';
import { stampEvents } from '../application/cart-commands';
import { InMemoryEventStore } from '../application/in-memory-event-store';
import { CartProjections } from '../application/projections';
import type { CartEvent } from '../domain/cart';
import type { EventEnvelope } from '../domain/events';
import { foldProjections } from '../domain/projections';
import { localTables } from '../local/resources';
import { testStack } from './support/local-stack';

jest.setTimeout(120_000);

/**
 * The multi-cart write path (several carts per TransactWriteItems, merged sku deltas) on tables of its own, so
 * that the live consumer never writes there: packs in which some carts' conditions fail (their cursors are ahead,
 * and a cold cache guesses "nothing applied" for carts starting at version 1) must apply every other cart exactly
 * once and skip the rest, ending equal to the fold.
 */
describe('projections writing many carts per request', () => {
  const client = new DynamoDBClient({});
  const documents = dynamoDbDocumentClient(client);
  const suffix = randomUUID().slice(0, 8);
  const names = { summary: `packed-summary-${suffix}`, popularity: `packed-popularity-${suffix}` };

  beforeAll(async () => {
    const { resources } = testStack();
    const template = (name: string) => localTables(testStack()).find((t) => t.TableName === name)!;
    await client.send(new CreateTableCommand({ ...template(resources.cartSummaryTable), TableName: names.summary }));
    await client.send(new CreateTableCommand({ ...template(resources.itemPopularityTable), TableName: names.popularity }));
  });
  afterAll(async () => {
    for (const TableName of Object.values(names)) await client.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
  });

  it('apply and applyOne end equal to the fold when some carts of a pack are refused', async () => {
    const skus = ['A', 'B', 'C'].map((s) => `PK-${suffix}-${s}`);
    const history: EventEnvelope[] = [];
    const store = new InMemoryEventStore();
    for (let cart = 0; cart < 150; cart++) {
      const cartId = randomUUID();
      const events: CartEvent[] = [
        { type: 'CartOpened', data: {} },
        { type: 'ItemAdded', data: { sku: skus[cart % 3]!, quantity: 1 + (cart % 4) } },
        { type: 'ItemAdded', data: { sku: skus[(cart + 1) % 3]!, quantity: 2 } },
        { type: 'ItemRemoved', data: { sku: skus[cart % 3]!, quantity: 1 + (cart % 4) } },
        cart % 5 === 0 ? { type: 'CartClosed', data: {} } : { type: 'ItemAdded', data: { sku: skus[(cart + 2) % 3]!, quantity: 1 } },
      ];
      const stamped = stampEvents(cartId, 0, events, new Date(0), randomUUID);
      await store.appendToStream(cartId, 0, stamped);
      history.push(...stamped);
    }
    const tables = () => [new DynamoDbCartSummaryTable(documents, names.summary), new DynamoDbItemPopularityTable(documents, names.popularity)];

    // Another writer got ahead on every 4th cart (versions 1-3), with a cache this writer does not share.
    const ahead = history.filter((e, index) => Math.floor(index / 5) % 4 === 0 && e.version <= 3);
    await new CartProjections(tables(), store).apply(ahead);

    const report = await new CartProjections(tables(), store).apply([...history].reverse());
    for (const name of ['cart-summary', 'item-popularity'] as const) {
      expect(report.projections[name]).toEqual({ applied: history.length - ahead.length, skipped: ahead.length, caughtUp: 0, ignored: 0 });
    }

    const expected = foldProjections(history);
    const summaries = await scan(names.summary);
    expect(summaries).toHaveLength(150);
    for (const item of summaries) {
      const { updatedAt: _updatedAt, ...summary } = item as Record<string, unknown>;
      expect(summary).toEqual(expected.cartSummaries.get(String(item.cartId)));
    }
    const rows = (await scan(names.popularity)).filter((item) => String(item.pk).startsWith('SKU#'));
    expect(rows.map((r) => [r.pk, r.timesAdded, r.quantityInOpenCarts]).sort()).toEqual(
      [...expected.itemPopularity.values()].map((r) => [skuRowKey(r.sku), r.timesAdded, r.quantityInOpenCarts]).sort(),
    );

    // The live path, cold cache: a whole re-delivered batch is recognised as duplicates, nothing changes.
    const live = new CartProjections(tables(), store);
    const outcomes = await Promise.all(history.slice(0, 100).map((e) => live.applyOne(e)));
    expect(new Set(outcomes)).toEqual(new Set(['duplicate']));
    const again = (await scan(names.popularity)).filter((item) => String(item.pk).startsWith('SKU#'));
    expect(again.map((r) => [r.pk, r.timesAdded, r.quantityInOpenCarts]).sort()).toEqual(rows.map((r) => [r.pk, r.timesAdded, r.quantityInOpenCarts]).sort());
  });

  async function scan(TableName: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(new ScanCommand({ TableName, ExclusiveStartKey }));
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
});
