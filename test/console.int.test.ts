import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { Page } from 'playwright-core';
import { GetRecordsCommand as GetKinesisRecords, GetShardIteratorCommand as GetKinesisIterator } from '@aws-sdk/client-kinesis';
import { dynamoDbClient, kinesisClient } from '../adapters/aws-clients';
import { JsonLinesDeadLetterStore } from '../adapters/dead-letters/json-lines-dead-letter-store';
import { localDeadLetterFile } from '../local/config';
import { batchDeadLetter, type StreamBatchInfo } from '../local/on-failure-record';
import { toKinesisStreamEvent } from '../local/kinesis-consumer/stream-event';
import { streamArnOf, toPipeRecord } from '../local/pipe/stream-source';
import { launchBrowser, type TestBrowser } from './support/browser';
import { readAllKinesisEvents } from './support/cdc-kinesis';
import { api, retriedCommand, testStack } from './support/local-stack';

jest.setTimeout(240_000);

/** Set CONSOLE_SCREENSHOTS=docs/images to refresh the screenshots in docs/console.md from this run. */
const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS ? resolve(process.env.CONSOLE_SCREENSHOTS) : undefined;

let browser: TestBrowser;
let page: Page;
const carts: string[] = [];

async function cart(items: [string, number][], close = false): Promise<string> {
  const { body } = await retriedCommand('POST', '/carts');
  for (const [sku, quantity] of items) expect((await retriedCommand('POST', `/carts/${body.cartId}/items`, { sku, quantity })).status).toBe(200);
  if (close) expect((await retriedCommand('POST', `/carts/${body.cartId}/close`)).status).toBe(200);
  return body.cartId as string;
}

async function screenshot(name: string): Promise<void> {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Runs in the page (a string, since this file is compiled without the DOM's types).
  await page.evaluate('document.activeElement?.blur()');
  await page.screenshot({ path: resolve(SCREENSHOTS, `console-${name}.png`) });
}

/** The DynamoDB stream record that carried this cart version, as the Pipe hands records to the enrichment. */
async function storedStreamRecord(cartId: string, version: number): Promise<Record<string, unknown>> {
  const streams = new DynamoDBStreamsClient({});
  const streamArn = await streamArnOf(dynamoDbClient(), testStack().resources.eventStoreTable);
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  for (const shard of StreamDescription?.Shards ?? []) {
    let { ShardIterator: iterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      const found = (page.Records ?? []).find((record) => record.dynamodb?.Keys?.aggregateId?.S === cartId && record.dynamodb?.Keys?.version?.N === String(version));
      if (found) return toPipeRecord(found, streamArn);
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  throw new Error(`no stream record for ${cartId} v${version}`);
}

/**
 * Where a cart's stream records are, as the Pipe's batch letter names a batch: the shard, the first and last
 * sequence numbers, and how many records the stream holds from the first through the last.
 */
async function streamBatchOf(cartId: string): Promise<StreamBatchInfo> {
  const streams = new DynamoDBStreamsClient({});
  const streamArn = await streamArnOf(dynamoDbClient(), testStack().resources.eventStoreTable);
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  for (const shard of StreamDescription?.Shards ?? []) {
    const records = [];
    let { ShardIterator: iterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
    while (iterator) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      records.push(...(page.Records ?? []));
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
    const first = records.findIndex((record) => record.dynamodb?.Keys?.aggregateId?.S === cartId);
    if (first < 0) continue;
    const last = records.findLastIndex((record) => record.dynamodb?.Keys?.aggregateId?.S === cartId);
    return {
      shardId: shard.ShardId!,
      startSequenceNumber: records[first]!.dynamodb!.SequenceNumber!,
      endSequenceNumber: records[last]!.dynamodb!.SequenceNumber!,
      batchSize: last - first + 1,
      streamArn,
    };
  }
  throw new Error(`no stream record for ${cartId}`);
}

beforeAll(async () => {
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(60_000); // the page waits on the live pipeline; a busy machine takes longer than playwright's 30 s
  carts.push(await cart([['espresso-beans', 2], ['grinder', 1], ['filter-papers', 3]]));
  carts.push(await cart([['kettle', 1]], true));
  carts.push(await cart([['mug', 4], ['espresso-beans', 1]]));
});

afterAll(async () => {
  await browser?.close();
});

/** Reads until the value satisfies `ok`, failing with the last value after the deadline. */
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const consoleUrl = (hash = '') => `${testStack().apiUrl}/console${hash}`;

describe('the operations console in a real browser', () => {
  it('serves the console page from the API server, and finds a cart: its stored events beside its read model', async () => {
    const response = await fetch(consoleUrl());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');

    await page.goto(consoleUrl());
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Carts' }).waitFor();
    for (const landmark of ['banner', 'navigation', 'main', 'contentinfo'] as const) expect(await page.getByRole(landmark).count()).toBe(1);
    expect(await page.getByRole('link', { name: 'Carts' }).getAttribute('aria-current')).toBe('page');
    // By keyboard alone: the field, typed into, and Enter submits.
    await page.getByLabel('Cart id').focus();
    await page.keyboard.type(carts[0]!);
    await page.keyboard.press('Enter');
    const timeline = page.locator('ol.timeline li');
    await until(() => timeline.count(), (count) => count === 4);
    expect(await timeline.nth(0).textContent()).toContain('CartOpened');
    expect(await timeline.nth(3).textContent()).toContain('filter-papers');
    // The read model follows through the Pipe, Kinesis and the projections consumer; the view updates by itself.
    await page.getByText('read model caught up').waitFor({ timeout: 60_000 });
    expect(await page.locator('#cart-result table').textContent()).toContain('grinder');
    await screenshot('carts');
  });

  it('shows the stream, the pipeline and the archive', async () => {
    await page.goto(consoleUrl('#stream'));
    await page.getByRole('heading', { name: 'Stream' }).waitFor();
    await page.getByLabel('Cart id').fill(carts[1]!);
    // At least once: under chaos a redelivered batch shows a cart's events more than once.
    await until(() => page.locator('table.stream tbody tr').count(), (count) => count >= 3, 60_000);
    await page.getByLabel('Cart id').fill('');
    await until(() => page.locator('table.stream tbody tr').count(), (count) => count >= 9);

    await page.goto(consoleUrl('#pipeline'));
    await page.getByRole('heading', { name: 'Components' }).waitFor();
    await until(() => page.locator('.flow li.up').count(), (count) => count === 6);
    expect(await page.getByRole('heading', { name: 'Lag' }).isVisible()).toBe(true);
    expect(await page.locator('table').nth(1).textContent()).toContain('consumer:projections');
    await screenshot('pipeline');

    await page.goto(consoleUrl('#archive'));
    const firstObject = page.locator('.objects button').first();
    // The archiver flushes every 2 s: reload until the first object is listed.
    await until(async () => (await page.reload(), await firstObject.waitFor({ timeout: 5_000 }).then(() => true, () => false)), Boolean, 60_000);
    await firstObject.click();
    await page.locator('.viewer table tbody tr').first().waitFor();
    await screenshot('archive');
  });

  it('starts a replay with the CLI’s inputs and follows it to its end', async () => {
    await page.goto(consoleUrl('#executions'));
    const replay = page.getByRole('form', { name: 'Replay' });
    // A bad input is refused by the CLI's own validation, named by its flag.
    await replay.getByLabel('From, ISO-8601 [--from]').fill('yesterday');
    await replay.getByRole('button', { name: 'Start replay' }).click();
    await until(() => replay.getByRole('alert').textContent(), (text) => Boolean(text?.includes('from')));
    await replay.getByLabel('From, ISO-8601 [--from]').fill('');
    await replay.getByRole('button', { name: 'Start replay' }).click();
    await page.locator('#execution-status').filter({ hasText: /succeeded/ }).waitFor({ timeout: 60_000 });
    const followed = page.locator('section.follow');
    expect(await followed.textContent()).toMatch(/Map Run: (\d+) of \1 archive objects done/);
    expect(await followed.locator('dl.output').textContent()).toContain('eventsRead');
    expect(await page.locator('table.history tbody tr').first().textContent()).toContain('SUCCEEDED');
    await screenshot('executions');
  });

  it('answers a redrive of a run that cannot be redriven with 409 EXECUTION_NOT_REDRIVABLE, of an unknown run with 404', async () => {
    const redrive = async (arn: string) => {
      const response = await fetch(`${testStack().apiUrl}/console/api/executions/${encodeURIComponent(arn)}/redrive`, { method: 'POST' });
      return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
    };
    const { executions } = (await (await fetch(`${testStack().apiUrl}/console/api/executions`)).json()) as { executions: { executionArn: string; machine: string; status: string }[] };
    const replay = executions.find((execution) => execution.machine === 'replay' && execution.status === 'SUCCEEDED')!;
    // A SUCCEEDED execution is not redrivable on AWS either (locally a failed one is refused too: docs/replay-and-backfill.md).
    expect(await redrive(replay.executionArn)).toMatchObject({ status: 409, body: { error: { code: 'EXECUTION_NOT_REDRIVABLE', message: expect.stringContaining('SUCCEEDED') } } });
    const unknown = `${replay.executionArn.split(':').slice(0, 7).join(':')}:no-such-run`;
    expect(await redrive(unknown)).toMatchObject({ status: 404, body: { error: { code: 'EXECUTION_NOT_FOUND' } } });
    expect(await redrive('arn:aws:states:us-east-1:000000000000:execution:no-such-machine:x')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_EXECUTION_ARN' } } });
  });

  it('redrives a Pipe batch letter: its records read back from the stream, through the enrichment and the Pipe’s target; keeps one that fails again', async () => {
    // As the Pipe leaves a batch it gave up on (local/on-failure-record.ts, like AWS): only where the records are.
    const batch = await streamBatchOf(carts[2]!);
    const pipeLetter = batchDeadLetter({ source: 'pipe', reason: 'enrichment failed: TimeoutError: Task timed out (RetryAttemptsExhausted after 11 attempt(s))', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 11, stream: 'dynamodb', batch });
    // And a stream record no enrichment can split, as the enrichment leaves it.
    const poison = structuredClone(await storedStreamRecord(carts[2]!, 2)) as { eventID: string; dynamodb: { NewImage: Record<string, unknown> } };
    poison.eventID = `poison-${Date.now()}`;
    poison.dynamodb.NewImage.type = { S: 'NoSuchEvent' };
    const store = new JsonLinesDeadLetterStore(localDeadLetterFile(testStack()));
    await store.send([
      pipeLetter,
      { source: 'cdc-enrichment', reason: 'unknown event type "NoSuchEvent"', failedAt: new Date().toISOString(), ids: { problem: 'rejected-event', eventID: poison.eventID }, payload: poison },
    ]);
    const fileBefore = readFileSync(store.file, 'utf8');

    await page.goto(consoleUrl('#dead-letters'));
    const rowOf = (text: string) => page.locator('table.letters tbody tr').filter({ hasText: text });
    await rowOf(batch.startSequenceNumber).waitFor();
    expect(await rowOf(batch.startSequenceNumber).textContent()).toContain('read back from the table’s stream');
    await screenshot('dead-letters');

    // Kinesis may already hold the events more than once (at least once; under chaos, redelivered batches).
    const copiesOf = async () => {
      const copies = new Map<string, number>();
      for (const event of await readAllKinesisEvents()) if (event.envelope.aggregateId === carts[2]) copies.set(event.envelope.eventId, (copies.get(event.envelope.eventId) ?? 0) + 1);
      return copies;
    };
    const copiesBefore = await until(copiesOf, (copies) => copies.size === 3, 60_000);
    await rowOf(batch.startSequenceNumber).getByRole('button', { name: /^Redrive letter/ }).click();
    await page.locator('#redrive-outcome').filter({ hasText: '1 letter(s) redriven, 0 kept.' }).waitFor();
    await rowOf(batch.startSequenceNumber).waitFor({ state: 'detached' });
    // Back through the Pipe's target: each of the cart's events is in Kinesis again, a duplicate that consumers skip
    // (at least once more: under chaos a PutRecords answered 500 after it was applied is sent again by the SDK).
    await until(
      async () => [...(await copiesOf())].map(([eventId, copies]) => copies - copiesBefore.get(eventId)!),
      (added) => added.length === 3 && added.every((n) => n >= 1),
    );
    // The read model saw the copies and applied each event once: the cart is as its three events made it.
    const readModel = await until(
      async () => (await api('GET', `/read/carts/${carts[2]}`)).body,
      (cart) => cart?.version === 3,
    );
    expect(readModel.items).toEqual(expect.arrayContaining([expect.objectContaining({ sku: 'mug', quantity: 4 }), expect.objectContaining({ sku: 'espresso-beans', quantity: 1 })]));

    await rowOf(poison.eventID).getByRole('button', { name: /^Redrive letter/ }).click();
    await page.locator('#redrive-outcome').filter({ hasText: '0 letter(s) redriven, 1 kept.' }).waitFor();
    expect(await page.locator('#redrive-outcome').textContent()).toContain('the enrichment still refuses the record');
    expect(await rowOf(poison.eventID).count()).toBe(1);
    // Removing a letter never rewrites the letters file, which other processes append to.
    expect(readFileSync(store.file, 'utf8').startsWith(fileBefore)).toBe(true);
    const eventId = [...copiesBefore.keys()][0]!;

    // Other tests write to the same stream meanwhile: look at this cart's records.
    await page.goto(consoleUrl('#stream'));
    await page.getByLabel('Cart id').fill(carts[2]!);
    // The redriven copy is marked a duplicate (under chaos an earlier copy may be marked too: any one will do).
    await page.locator('table.stream tbody tr').filter({ hasText: eventId.slice(0, 8) }).filter({ hasText: 'duplicate' }).first().waitFor({ timeout: 60_000 });
    await page.getByLabel('Cart id').fill('');
    await until(() => page.locator('table.stream tbody tr').count(), (count) => count >= 9);
    await screenshot('stream');
    await page.getByLabel('only marked records').check();
    await until(() => page.locator('table.stream tbody tr').allTextContents(), (rows) => rows.length > 0 && rows.every((row) => /duplicate|redelivered|out-of-order|gap|replayed/.test(row)));
  });

  it('keeps a Pipe batch letter whose records the stream no longer holds, and says how to recover them', async () => {
    // The stream trims records after 24 hours: here the range holds fewer records than the batch had.
    const batch = await streamBatchOf(carts[1]!);
    const trimmed = { ...batch, batchSize: batch.batchSize + 5 };
    const store = new JsonLinesDeadLetterStore(localDeadLetterFile(testStack()));
    const reason = `Kinesis refused 3 of 3 record(s) (console test ${Date.now()})`;
    await store.send([batchDeadLetter({ source: 'pipe', reason, condition: 'RecordAgeExceeded', approximateInvokeCount: 4, stream: 'dynamodb', batch: trimmed })]);
    const listed = (await (await fetch(`${testStack().apiUrl}/console/api/dead-letters`)).json()) as { letters: { id: string; reason: string; kind: string }[] };
    const letter = listed.letters.find((l) => l.reason === reason)!;
    expect(letter.kind).toBe('pipe-batch');
    const copiesBefore = (await readAllKinesisEvents()).filter((event) => event.envelope.aggregateId === carts[1]).length;

    const redriven = (await (await fetch(`${testStack().apiUrl}/console/api/dead-letters/redrive`, { method: 'POST', body: JSON.stringify({ ids: [letter.id] }) })).json()) as { failed: number; outcomes: { reason?: string }[] };
    expect(redriven.failed).toBe(1);
    expect(redriven.outcomes[0]!.reason).toContain(`holds only ${batch.batchSize} of the batch's ${trimmed.batchSize} record(s)`);
    expect(redriven.outcomes[0]!.reason).toContain('npm run backfill');
    expect(redriven.outcomes[0]!.reason).toContain('replay');
    const after = (await (await fetch(`${testStack().apiUrl}/console/api/dead-letters`)).json()) as { letters: { id: string }[] };
    expect(after.letters.map((l) => l.id)).toContain(letter.id);
    // Nothing of a partial range was published.
    expect((await readAllKinesisEvents()).filter((event) => event.envelope.aggregateId === carts[1]).length).toBe(copiesBefore);
  });

  it('redrives consumer letters through their consumer, whether they hold the records or only their shard and sequence range', async () => {
    const events = (await readAllKinesisEvents()).filter((event) => event.envelope.aggregateId === carts[1]);
    expect(new Set(events.map((event) => event.envelope.eventId)).size).toBe(3); // Kinesis is at least once
    const kinesis = kinesisClient();
    const streamName = testStack().resources.eventsStream;
    const shardId = events[0]!.shardId;
    const { ShardIterator } = await kinesis.send(new GetKinesisIterator({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }));
    const records = ((await kinesis.send(new GetKinesisRecords({ ShardIterator }))).Records ?? []).filter((record) => record.PartitionKey === carts[1]);
    const identity = { shardId, streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${streamName}`, region: 'us-east-1' };
    const range = { shardId, startSequenceNumber: records[0]!.SequenceNumber, endSequenceNumber: records.at(-1)!.SequenceNumber, batchSize: records.length, streamArn: identity.streamArn };
    const store = new JsonLinesDeadLetterStore(localDeadLetterFile(testStack()));
    const reason = `retry attempts exhausted: function error (console test ${Date.now()})`;
    await store.send([
      { source: 'consumer:projections', reason, failedAt: new Date().toISOString(), ids: range, payload: toKinesisStreamEvent(records, identity) },
      // As AWS's on-failure destinations send it: the batch's metadata, no records.
      { source: 'consumer:projections', reason, failedAt: new Date().toISOString(), ids: range, payload: { requestContext: { condition: 'RetryAttemptsExhausted' } } },
    ]);
    const listed = (await (await fetch(`${testStack().apiUrl}/console/api/dead-letters`)).json()) as { letters: { id: string; reason: string }[] };
    const ids = listed.letters.filter((letter) => letter.reason === reason).map((letter) => letter.id);
    expect(ids).toHaveLength(2);
    const redriven = await (await fetch(`${testStack().apiUrl}/console/api/dead-letters/redrive`, { method: 'POST', body: JSON.stringify({ ids }) })).json();
    expect(redriven).toMatchObject({ redriven: 2, failed: 0 });
    const after = (await (await fetch(`${testStack().apiUrl}/console/api/dead-letters`)).json()) as { letters: { id: string }[] };
    expect(after.letters.filter((letter) => ids.includes(letter.id))).toEqual([]);
  });

  it('answers bad input to its JSON API with a 4xx JSON error', async () => {
    const call = async (method: string, path: string, body?: string) => {
      const response = await fetch(`${testStack().apiUrl}/console/api${path}`, { method, ...(body === undefined ? {} : { body }) });
      return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
    };
    expect(await call('GET', '/carts/not-a-uuid')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_CART_ID' } } });
    expect(await call('POST', '/executions', '{"machine":"replay","flags":{"target":"everything"}}')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_INPUT', message: expect.stringContaining('--target must be "projections" or "stream"') } } });
    expect(await call('POST', '/executions', '{"machine":"rebuild"}')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_EXECUTION_REQUEST' } } });
    expect(await call('POST', '/dead-letters/redrive', 'not json')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_JSON' } } });
    expect(await call('POST', '/dead-letters/redrive', '{"ids":[]}')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REDRIVE_REQUEST' } } });
    expect(await call('GET', '/archive/object?key=index/archive-index.json')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_KEY' } } });
    expect(await call('GET', '/stream?limit=0')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_LIMIT' } } });
    expect(await call('DELETE', '/pipeline')).toMatchObject({ status: 405, body: { error: { code: 'METHOD_NOT_ALLOWED' } } });
    expect(await call('GET', '/nothing-here')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });
});
