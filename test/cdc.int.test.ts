import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from '../adapters/aws-clients';
import { api, retriedCommand, testStack } from './support/local-stack';
import { eventsByCart, waitForKinesisEvents } from './support/cdc-kinesis';

const run = promisify(execFile);

jest.setTimeout(180_000);

async function cartWithHistory(steps: number): Promise<{ cartId: string; version: number }> {
  const opened = await retriedCommand('POST', '/carts');
  expect(opened.status).toBe(201);
  const { cartId } = opened.body as { cartId: string };
  let version = 1;
  for (let step = 0; step < steps; step++) {
    const response = step % 3 === 2 ? await retriedCommand('DELETE', `/carts/${cartId}/items/SKU-${step - 1}?quantity=1`) : await retriedCommand('POST', `/carts/${cartId}/items`, { sku: `SKU-${step}`, quantity: 2 });
    expect(response.status).toBeLessThan(300);
    version = response.body.version;
  }
  const closed = await retriedCommand('POST', `/carts/${cartId}/close`);
  expect(closed.status).toBe(200);
  return { cartId, version: closed.body.version };
}

describe('change data capture: event store -> Pipe -> Kinesis', () => {
  it('publishes every event of every cart, one record per event, at least once (not necessarily in version order: see delivery-guarantees.md)', async () => {
    const carts = await Promise.all([...Array(6)].map((_, index) => cartWithHistory(2 + index)));
    const ids = new Set(carts.map((cart) => cart.cartId));

    const events = await waitForKinesisEvents((all) => {
      const byCart = eventsByCart(all, ids);
      return carts.every(({ cartId, version }) => byCart.get(cartId)?.length === version);
    });

    const byCart = eventsByCart(events, ids);
    for (const { cartId, version } of carts) {
      // By eventId each event once; the order is Kinesis's, which on AWS (and under --chaos) is not the version order.
      const published = [...byCart.get(cartId)!].sort((a, b) => a.version - b.version);
      expect(published.map((e) => e.version)).toEqual([...Array(version).keys()].map((v) => v + 1));
      expect(published[0]!.type).toBe('CartOpened');
      expect(published[0]!.data).toEqual({});
      expect(published.at(-1)!.type).toBe('CartClosed');
    }
    for (const event of events.filter((e) => ids.has(e.envelope.aggregateId))) {
      expect(event.partitionKey).toBe(event.envelope.aggregateId);
      expect(event.envelope.metadata?.sequenceNumber).toMatch(/^\d+$/);
    }
  });

  it('dead-letters an item no event schema accepts, with its reason, while other carts keep flowing', async () => {
    const badCart = `bad-${randomUUID()}`;
    await dynamoDbClient().send(
      new PutItemCommand({
        TableName: testStack().resources.eventStoreTable,
        Item: {
          aggregateId: { S: badCart },
          version: { N: '1' },
          eventId: { S: randomUUID() },
          aggregateType: { S: 'Cart' },
          type: { S: 'ItemStolen' },
          schemaVersion: { N: '1' },
          occurredAt: { S: new Date().toISOString() },
          data: { M: {} },
        },
      }),
    );
    const good = await cartWithHistory(1);

    const events = await waitForKinesisEvents((all) => eventsByCart(all, new Set([good.cartId])).get(good.cartId)?.length === good.version);
    expect(events.some((e) => e.envelope.aggregateId === badCart)).toBe(false);

    const env = { ...process.env, LOCAL_DATA_DIR: testStack().dataDir };
    const cli = resolve(__dirname, '..', 'cli', 'dead-letters.ts');
    const deadline = Date.now() + 60_000;
    let listed = '';
    while (Date.now() < deadline && !listed.includes(badCart)) {
      listed = (await run(process.execPath, ['--import', 'tsx', cli, '--source', 'cdc-enrichment'], { env })).stdout;
      if (!listed.includes(badCart)) await new Promise((r) => setTimeout(r, 250));
    }
    expect(listed).toContain(badCart);
    expect(listed).toContain('unknown event type "ItemStolen"');
    // Other tests share this stack's letters file, and not every letter kind has ids: look among the enrichment's.
    const letters = (await run(process.execPath, ['--import', 'tsx', cli, '--source', 'cdc-enrichment', '--json'], { env })).stdout.trim().split('\n').map((line) => JSON.parse(line));
    const letter = letters.find((l) => JSON.stringify(l.ids ?? {}).includes(badCart));
    expect(letter).toMatchObject({ source: 'cdc-enrichment', ids: { problem: 'rejected-event' }, payload: { eventName: 'INSERT' } });
  });

  it('shows the Pipe runner in GET /health', async () => {
    const health = await api('GET', '/health');
    expect(health.body.components.pipe).toEqual({ ready: true });
  });
});
