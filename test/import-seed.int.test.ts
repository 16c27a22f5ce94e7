import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CreateTableCommand, PutItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { dynamoDbClient } from '../adapters/aws-clients';
import { skuOfSeedItemName } from '../domain/cart';
import type { SeedEvent } from '../domain/cdc';
import { eventually } from './support/consumers';
import { api, testStack } from './support/local-stack';
import { eventsByCart, waitForKinesisEvents } from './support/cdc-kinesis';

const run = promisify(execFile);
jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '..');
const dynamodb = dynamoDbClient();

/** `npm run import-seed -- ...` as an operator runs it, against the test stack (its ports are in the environment). */
async function importSeed(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npm', ['run', '-s', 'import-seed', '--', ...args], { cwd: ROOT, env: process.env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

/** A table as the seed's Terraform creates it: hash key Uuid (S), stream NEW_AND_OLD_IMAGES. */
async function createSeedTable(layout: 'aggregate-item' | 'event-per-item'): Promise<string> {
  const name = `seed-${layout}-${randomUUID()}`;
  const keys =
    layout === 'aggregate-item'
      ? { KeySchema: [{ AttributeName: 'Uuid', KeyType: 'HASH' as const }], AttributeDefinitions: [{ AttributeName: 'Uuid', AttributeType: 'S' as const }] }
      : {
          KeySchema: [
            { AttributeName: 'AggregateUuid', KeyType: 'HASH' as const },
            { AttributeName: 'Version', KeyType: 'RANGE' as const },
          ],
          AttributeDefinitions: [
            { AttributeName: 'AggregateUuid', AttributeType: 'S' as const },
            { AttributeName: 'Version', AttributeType: 'N' as const },
          ],
        };
  await dynamodb.send(
    new CreateTableCommand({
      TableName: name,
      ...keys,
      ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 },
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return name;
}

/** A seed cart's events as its Ruby code makes them: CartOpened, one ItemAdded per item name, maybe CartClosed. */
function seedHistory(cartId: string, itemNames: readonly string[], closed: boolean): SeedEvent[] {
  const names = [['CartOpened', undefined], ...itemNames.map((name) => ['ItemAdded', name]), ...(closed ? [['CartClosed', undefined]] : [])] as [string, string | undefined][];
  return names.map(([Name, itemName], index) => ({
    EventUuid: randomUUID(),
    AggregateUuid: cartId,
    Name,
    Data: itemName === undefined ? { shopping_cart_uuid: cartId } : { shopping_cart_uuid: cartId, item_name: itemName },
    Version: index + 1,
  }));
}

/**
 * Writes a cart as the seed did, one command at a time: the whole aggregate item put again with one more event
 * in its Events list, on the condition that nobody appended in between.
 */
async function writeAsTheSeed(table: string, events: readonly SeedEvent[]): Promise<void> {
  for (let count = 1; count <= events.length; count++) {
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: marshall({ Uuid: events[0]!.AggregateUuid, Events: events.slice(0, count) }),
        ConditionExpression: 'attribute_not_exists(#uuid) OR size(#events) = :before',
        ExpressionAttributeNames: { '#uuid': 'Uuid', '#events': 'Events' },
        ExpressionAttributeValues: { ':before': { N: String(count - 1) } },
      }),
    );
  }
}

/** What the cart API and the read model show for a seed cart: one line per sku, the seed's names kept. */
function expectedLines(itemNames: readonly string[]) {
  const lines = new Map<string, { sku: string; quantity: number; name: string }>();
  for (const name of itemNames) {
    const sku = skuOfSeedItemName(name);
    const line = lines.get(sku);
    lines.set(sku, line ? { ...line, quantity: line.quantity + 1 } : { sku, quantity: 1, name });
  }
  return [...lines.values()];
}

async function storedItems(cartId: string): Promise<Record<string, AttributeValue>[]> {
  const { Items } = await dynamodb.send(
    new QueryCommand({ TableName: testStack().resources.eventStoreTable, KeyConditionExpression: 'aggregateId = :id', ExpressionAttributeValues: { ':id': { S: cartId } }, ConsistentRead: true }),
  );
  return Items ?? [];
}

function counted(stdout: string, what: string): number {
  const match = new RegExp(`^\\s+${what}\\s+(\\d+)$`, 'm').exec(stdout);
  if (!match) throw new Error(`no "${what}" in the summary:\n${stdout}`);
  return Number(match[1]);
}

describe('npm run import-seed', () => {
  it('imports seed carts (one closed, item names with spaces) with their ids and versions; a second run changes nothing; the read models follow', async () => {
    const table = await createSeedTable('aggregate-item');
    const carts = [
      { cartId: randomUUID(), names: ['apple', 'Red Mug', 'apple'], closed: false },
      { cartId: randomUUID(), names: ['Crème brûlée'], closed: true },
      { cartId: randomUUID(), names: ['T-shirt (XL) / blue', '☕ beans 1kg'], closed: false },
    ].map((cart) => ({ ...cart, events: seedHistory(cart.cartId, cart.names, cart.closed) }));
    for (const cart of carts) await writeAsTheSeed(table, cart.events);
    const total = carts.reduce((n, cart) => n + cart.events.length, 0);

    const first = await importSeed('--table', table, '--layout', 'aggregate-item', '--segments', '3');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(counted(first.stdout, 'items scanned')).toBe(3);
    expect(counted(first.stdout, 'events imported')).toBe(total);
    expect(counted(first.stdout, 'already imported')).toBe(0);
    expect(counted(first.stdout, 'carts imported')).toBe(3);

    for (const cart of carts) {
      const response = await api('GET', `/carts/${cart.cartId}`);
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ cartId: cart.cartId, status: cart.closed ? 'CLOSED' : 'OPEN', items: expectedLines(cart.names), version: cart.events.length });
      // The same event ids and versions, in today's shape.
      const stored = await storedItems(cart.cartId);
      expect(stored.map((item) => [Number(item.version!.N), item.eventId!.S])).toEqual(cart.events.map((event) => [event.Version, event.EventUuid]));
    }
    const storedBefore = await Promise.all(carts.map((cart) => storedItems(cart.cartId)));

    const second = await importSeed('--table', table, '--layout', 'aggregate-item');
    expect(second.code).toBe(0);
    expect(counted(second.stdout, 'events imported')).toBe(0);
    expect(counted(second.stdout, 'already imported')).toBe(total);
    expect(await Promise.all(carts.map((cart) => storedItems(cart.cartId)))).toEqual(storedBefore);

    for (const cart of carts) {
      const items = expectedLines(cart.names);
      const wanted = { cartId: cart.cartId, status: cart.closed ? 'CLOSED' : 'OPEN', items, totalQuantity: cart.names.length, version: cart.events.length };
      const summary = await eventually(`cart ${cart.cartId} in the read API`, async () => {
        const response = await api('GET', `/read/carts/${cart.cartId}`);
        return response.status === 200 && response.body.version === wanted.version ? response.body : undefined;
      }, 60_000);
      expect(summary).toEqual(wanted);
    }
    // Through the CDC like any other event: each published once per eventId, lifted (no seed payload on the stream).
    const ids = new Set(carts.map((cart) => cart.cartId));
    const published = eventsByCart(await waitForKinesisEvents((all) => carts.every((cart) => eventsByCart(all, ids).get(cart.cartId)?.length === cart.events.length)), ids);
    for (const cart of carts) {
      // Each event once by eventId; Kinesis order is not the version order (under chaos as on AWS).
      expect([...published.get(cart.cartId)!].sort((a, b) => a.version - b.version).map((e) => e.eventId)).toEqual(cart.events.map((e) => e.EventUuid));
      for (const event of published.get(cart.cartId)!) expect(event.data).not.toHaveProperty('shopping_cart_uuid');
    }
  });

  it('reports and skips a bad seed item with its key and why, imports the rest, and exits 1', async () => {
    const table = await createSeedTable('aggregate-item');
    const good = seedHistory(randomUUID(), ['pear'], true);
    const stray = seedHistory(randomUUID(), ['plum'], false);
    stray[1] = { ...stray[1]!, Data: { shopping_cart_uuid: randomUUID(), item_name: 'plum' } };
    await writeAsTheSeed(table, good);
    await writeAsTheSeed(table, stray);

    const result = await importSeed('--table', table, '--layout', 'aggregate-item');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`skipped {"Uuid":"${stray[0]!.AggregateUuid}"}: rejected-event: cart ${stray[0]!.AggregateUuid}: event ${stray[1]!.EventUuid} (version 2): shopping_cart_uuid`);
    expect(counted(result.stdout, 'events imported')).toBe(good.length);
    expect(counted(result.stdout, 'items skipped')).toBe(1);
    expect((await api('GET', `/carts/${good[0]!.AggregateUuid}`)).body).toMatchObject({ status: 'CLOSED', version: 3 });
    expect((await api('GET', `/carts/${stray[0]!.AggregateUuid}`)).status).toBe(404);
  });

  it('reads the seed\'s later layout (one item per event), resumes from a checkpoint, and refuses a layout that does not fit the table (exit 2)', async () => {
    const table = await createSeedTable('event-per-item');
    const events = seedHistory(randomUUID(), ['Red Mug', 'Red Mug'], false);
    for (const event of events) await dynamodb.send(new PutItemCommand({ TableName: table, Item: marshall(event) }));

    const wrong = await importSeed('--table', table, '--layout', 'aggregate-item');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('is keyed by AggregateUuid + Version, but the aggregate-item layout is keyed by Uuid; it looks like --layout event-per-item');

    const checkpoint = join(mkdtempSync(join(tmpdir(), 'import-seed-')), 'checkpoint.json');
    const result = await importSeed('--table', table, '--layout', 'event-per-item', '--segments', '2', '--checkpoint', checkpoint);
    expect(result.code).toBe(0);
    expect(counted(result.stdout, 'events imported')).toBe(3);
    // Resumed from the checkpoint: both segments finished, nothing scanned again.
    const again = await importSeed('--table', table, '--layout', 'event-per-item', '--segments', '2', '--checkpoint', checkpoint);
    expect(again.stdout).toContain('2 of 2 segment(s) finished before');
    expect([counted(again.stdout, 'items scanned'), counted(again.stdout, 'events imported'), counted(again.stdout, 'segments done before')]).toEqual([0, 0, 2]);
    const otherScope = await importSeed('--table', table, '--layout', 'event-per-item', '--segments', '3', '--checkpoint', checkpoint);
    expect(otherScope.code).toBe(2);
    expect(otherScope.stderr).toContain('belongs to the import of');
    expect((await api('GET', `/carts/${events[0]!.AggregateUuid}`)).body).toEqual({
      cartId: events[0]!.AggregateUuid,
      status: 'OPEN',
      items: [{ sku: skuOfSeedItemName('Red Mug'), quantity: 2, name: 'Red Mug' }],
      version: 3,
    });
  });
});
