import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamoDbDocumentClient } from '../adapters/aws-clients';
import { ITEM_POPULARITY_KEY, skuRowKey } from '../adapters/dynamodb/projection-tables';
import { isFresh, readHeartbeat } from '../local/process/heartbeat';
import type { EventEnvelope } from '../domain/events';
import { archivedLines, awaitStreamReadersCaughtUp, eventLogLines, eventually, putEnvelopes } from './support/consumers';
import { api, retriedCommand, testStack } from './support/local-stack';

jest.setTimeout(240_000);

const ARCHIVE_KEY = /^events\/\d{4}\/\d{2}\/\d{2}\/\d{2}\/[^/]+\.jsonl$/;

describe('consumers: commands over HTTP reach the read API and the archive', () => {
  it('reflects a cart and its items in the read API within seconds, logs each of its events once, and archives each', async () => {
    const sku = `SKU-${randomUUID().slice(0, 8)}`;
    const other = `${sku}-B`;
    const { cartId } = (await retriedCommand('POST', '/carts')).body;
    await retriedCommand('POST', `/carts/${cartId}/items`, { sku, quantity: 3 });
    await retriedCommand('POST', `/carts/${cartId}/items`, { sku: other, quantity: 1 });
    await retriedCommand('POST', `/carts/${cartId}/items`, { sku, quantity: 2 });
    await retriedCommand('DELETE', `/carts/${cartId}/items/${sku}?quantity=1`);

    const summary = await eventually('the cart at version 5 in the read API', async () => {
      const response = await api('GET', `/read/carts/${cartId}`);
      return response.status === 200 && response.body.version === 5 ? response.body : undefined;
    });
    expect(summary).toEqual({ cartId, status: 'OPEN', items: [{ sku, quantity: 4 }, { sku: other, quantity: 1 }], totalQuantity: 5, version: 5 });

    // The two projections are written side by side: item-popularity may land a moment after cart-summary.
    // Other tests share this stack and its sku ranking, so the rows are read by key rather than from the top N.
    const documents = dynamoDbDocumentClient();
    const rowsOf = async () => {
      const rows = [];
      for (const name of [sku, other]) {
        const { Item } = await documents.send(new GetCommand({ TableName: testStack().resources.itemPopularityTable, Key: { [ITEM_POPULARITY_KEY.partitionKey]: skuRowKey(name) } }));
        if (Item) rows.push({ sku: String(Item.sku), timesAdded: Number(Item.timesAdded), quantityInOpenCarts: Number(Item.quantityInOpenCarts) });
      }
      return rows;
    };
    const wanted = [
      { sku, timesAdded: 2, quantityInOpenCarts: 4 },
      { sku: other, timesAdded: 1, quantityInOpenCarts: 1 },
    ];
    const rows = await eventually('both skus ranked', async () => {
      const found = await rowsOf();
      return JSON.stringify(found) === JSON.stringify(wanted) ? found : undefined;
    });
    expect(rows).toEqual(wanted);

    await retriedCommand('POST', `/carts/${cartId}/close`);
    await eventually('the closed cart in the read API', async () => {
      const response = await api('GET', `/read/carts/${cartId}`);
      return response.body.status === 'CLOSED' && response.body.version === 6 ? true : undefined;
    });
    const afterClose = await eventually('the closed cart out of the open quantities', async () => {
      const found = await rowsOf();
      return found[0]?.quantityInOpenCarts === 0 ? found : undefined;
    });
    expect(afterClose).toEqual([
      { sku, timesAdded: 2, quantityInOpenCarts: 0 },
      { sku: other, timesAdded: 1, quantityInOpenCarts: 0 },
    ]);

    // Only once every reader has read past the end of the stream can no later duplicate show up.
    await awaitStreamReadersCaughtUp();
    const archived = (await archivedLines()).filter((line) => line.envelope.aggregateId === cartId);
    // Firehose is at-least-once: each event at least once (duplicates and replayed copies are its right).
    expect([...new Set(archived.map((line) => line.envelope.version))].sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const { key } of archived) expect(key).toMatch(ARCHIVE_KEY);
    // The event log wrote each event at least once, the first lines in version order, whatever Kinesis delivered
    // (a repeat, with the same eventId, only where a delivery died between its line and its position write).
    const logged = eventLogLines().filter((line) => line.aggregateId === cartId).map((line) => line.version);
    expect(logged.filter((version, i) => logged.indexOf(version) === i)).toEqual([1, 2, 3, 4, 5, 6]);
    // And the read model did not count a redelivered event twice.
    const written = (await api('GET', `/carts/${cartId}`)).body as { items: { quantity: number }[] };
    expect((await api('GET', `/read/carts/${cartId}`)).body).toMatchObject({ version: 6, status: 'CLOSED', totalQuantity: written.items.reduce((n, l) => n + l.quantity, 0) });
  });

  it('answers the read API with JSON errors for bad input and for carts not projected', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'limit=1.5', 'limit=5&other=1']) {
      const response = await api('GET', `/read/items/top?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('INVALID_REQUEST');
    }
    expect((await api('GET', '/read/carts/not-a-uuid')).status).toBe(400);
    const missing = await api('GET', `/read/carts/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('CART_NOT_FOUND');
    const defaults = await api('GET', '/read/items/top');
    expect(defaults.status).toBe(200);
    expect(defaults.body.limit).toBe(10);
    // A ranking of its own to check: one sku added twice, two tied once (ties go by sku), in this stack of its own.
    const prefix = `RANK-${randomUUID().slice(0, 8)}`;
    const [twice, tiedFirst, tiedSecond] = [`${prefix}-A`, `${prefix}-B`, `${prefix}-C`];
    for (const skus of [[twice, tiedSecond], [twice, tiedFirst]]) {
      const { cartId } = (await retriedCommand('POST', '/carts')).body;
      for (const sku of skus) expect((await retriedCommand('POST', `/carts/${cartId}/items`, { sku })).status).toBe(200);
    }
    // The stack may be shared with other test files: a full top 100 may rank other skus above these.
    const ranked = await eventually('the ranking holds the three skus (or is full)', async () => {
      const items = (await api('GET', '/read/items/top?limit=100')).body.items as { sku: string; timesAdded: number }[];
      return items.length === 100 || [twice, tiedFirst, tiedSecond].every((sku) => items.some((row) => row.sku === sku)) ? items : undefined;
    });
    expect(ranked.length).toBeGreaterThanOrEqual(3);
    expect(ranked.length).toBeLessThanOrEqual(100);
    const expected = [
      { sku: twice, timesAdded: 2 },
      { sku: tiedFirst, timesAdded: 1 },
      { sku: tiedSecond, timesAdded: 1 },
    ];
    const mine = ranked.filter((row) => row.sku.startsWith(prefix)).map(({ sku, timesAdded }) => ({ sku, timesAdded }));
    expect(mine).toEqual(expected.slice(0, mine.length));
    for (let i = 1; i < ranked.length; i++) {
      const [previous, row] = [ranked[i - 1]!, ranked[i]!];
      expect(previous.timesAdded > row.timesAdded || (previous.timesAdded === row.timesAdded && previous.sku < row.sku)).toBe(true);
    }
  });
});

describe('consumers survive kill -9', () => {
  const probe = (run: string, n: number): EventEnvelope => ({
    eventId: `${run}-${n}`,
    aggregateType: 'ArchiveProbe',
    aggregateId: `${run}-${n % 7}`,
    version: Math.floor(n / 7) + 1,
    type: 'Probed',
    schemaVersion: 1,
    occurredAt: new Date().toISOString(),
    data: { n },
  });

  async function kill(component: string): Promise<void> {
    const { dataDir } = testStack();
    const before = readHeartbeat(dataDir, component);
    if (!before) throw new Error(`${component} has no heartbeat`);
    process.kill(before.pid, 'SIGKILL');
    await eventually(`${component} to be restarted`, async () => {
      const beat = readHeartbeat(dataDir, component);
      return beat && beat.pid !== before.pid && isFresh(beat) ? true : undefined;
    }, 30_000);
  }

  it('the archiver killed mid-batch and restarted still archives every event (at least once, as Firehose)', async () => {
    const run = `probe-${randomUUID().slice(0, 8)}`;
    const events = Array.from({ length: 600 }, (_, n) => probe(run, n));
    await putEnvelopes(events.slice(0, 250));
    await eventually('a first archive object with probe events', async () => ((await archivedLines()).some((l) => l.envelope.eventId.startsWith(run)) ? true : undefined));
    await putEnvelopes(events.slice(250, 500));
    await kill('archiver'); // with records buffered (the flush interval is 2 s) or an object being written
    await putEnvelopes(events.slice(500));

    const ids = await eventually('every probe event in the archive', async () => {
      const found = (await archivedLines()).filter((l) => l.envelope.eventId.startsWith(run)).map((l) => l.envelope.eventId);
      return new Set(found).size === events.length ? found : undefined;
    }, 45_000);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.eventId)));
  });

  it('the projections consumer killed mid-flow resumes from its checkpoint and catches up', async () => {
    const { cartId } = (await retriedCommand('POST', '/carts')).body;
    const add = (i: number) => retriedCommand('POST', `/carts/${cartId}/items`, { sku: `K-${i % 4}`, quantity: 1 });
    for (let i = 0; i < 10; i++) await add(i);
    await kill('consumers');
    for (let i = 10; i < 20; i++) await add(i);
    const summary = await eventually('all 21 events of the cart projected', async () => {
      const response = await api('GET', `/read/carts/${cartId}`);
      return response.body.version === 21 ? response.body : undefined;
    }, 45_000);
    expect(summary.totalQuantity).toBe(20);
    expect(summary.items).toHaveLength(4);
  });
});
