import { DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { toEnvelope } from '../adapters/dynamodb/event-store';
import { deleteAllItems } from '../adapters/dynamodb/delete-all';
import { eventIdsOf } from '../application/backfill';
import type { EventEnvelope } from '../domain/events';
import { foldProjections } from '../domain/projections';
import { endpointOf, handlerEnvironment, type LocalConfig } from '../local/config';
import { startIsolatedStack, type IsolatedStack } from '../local/isolated-stack';

/**
 * Replay and backfill end to end, through the local Step Functions endpoint and @aws-sdk/client-sfn. They wipe
 * projections and empty the archive, which would pull the rug from under the other integration tests, so this
 * file runs on its own local stack (free ports, own data folder), started and stopped here.
 */
jest.setTimeout(240_000);

let stack: IsolatedStack;
let config: LocalConfig;
let savedEnv: NodeJS.ProcessEnv;
let sfn: SFNClient;
let s3: S3Client;
let documents: DynamoDBDocumentClient;

beforeAll(async () => {
  savedEnv = { ...process.env };
  stack = await startIsolatedStack({ name: 'replay', log: () => undefined });
  config = stack.config;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  sfn = new SFNClient({ endpoint: endpointOf(config.ports.stepfunctions), region: 'us-east-1', credentials });
  s3 = new S3Client({
    endpoint: endpointOf(config.ports.s3),
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  documents = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: endpointOf(config.ports.dynamodb), region: 'us-east-1', credentials }));
  await createCarts(12);
});

afterAll(async () => {
  await stack?.stop();
  // LocalStack.start() points this process's SDK variables at its emulators: give the worker its own back.
  for (const key of Object.keys(handlerEnvironment(config))) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

describe('backfill state machine', () => {
  it('puts every event of the store back into an emptied archive, exactly once by eventId, and adds nothing when run again', async () => {
    const storeIds = (await storeEvents()).map((event) => event.eventId).sort();
    expect(storeIds.length).toBeGreaterThan(40);
    await waitForArchiveToHold(storeIds); // let the archiver (if running) finish, so nothing lands after the check
    await emptyArchive();
    expect(await archivedEventIds()).toEqual([]);

    const first = await runToEnd('backfill', { segments: 3 });
    expectSucceeded(first);
    const firstOutput = JSON.parse(first.output!);
    expect(firstOutput).toMatchObject({ segments: 3, scanned: storeIds.length, missing: storeIds.length, written: storeIds.length, failedSegments: 0 });
    expect((await archivedEventIds()).sort()).toEqual(storeIds);

    const second = await runToEnd('backfill', {});
    expectSucceeded(second);
    expect(JSON.parse(second.output!)).toMatchObject({ archivedBefore: storeIds.length, missing: 0, written: 0, objectsWritten: 0 });
    expect((await archivedEventIds()).sort()).toEqual(storeIds);
  });

  it('fails fast with a clear cause on bad input', async () => {
    const execution = await runToEnd('backfill', { segments: 0, extra: true });
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('InvalidBackfillInput');
    expect(execution.cause).toMatch(/segments/);
    expect(execution.cause).toMatch(/extra/);
  });
});

describe('replay state machine', () => {
  it('rebuilds wiped projections to exactly their state before the wipe, which is the from-scratch fold of the store', async () => {
    await runToEnd('backfill', {}); // the archive holds every event, whether or not an archiver runs
    // Fill the projections by a plain replay (a live projection consumer, if running, converges to the same rows).
    const fill = await runToEnd('replay', { target: 'projections' });
    expectSucceeded(fill);
    const before = await projectionRows();
    expectRowsToEqualFold(before, await storeEvents());

    await deleteAllItems(documents, config.resources.cartSummaryTable, ['cartId']);
    await deleteAllItems(documents, config.resources.itemPopularityTable, ['pk']);
    expect((await projectionRows()).cartSummary).toEqual([]);

    const started = Date.now();
    const rebuild = await runToEnd('replay', { target: 'projections', rebuild: true });
    expectSucceeded(rebuild);
    const output = JSON.parse(rebuild.output!);
    const events = await storeEvents();
    expect(output).toMatchObject({ target: 'projections', rebuild: true, failedObjects: 0, projections: ['cart-summary', 'item-popularity'] });
    expect(output.objects).toBeGreaterThan(0);
    expect(output.eventsRead).toBeGreaterThanOrEqual(events.length);
    // Every event is applied once per projection (directly, or read from the store to close a gap between objects
    // replayed in parallel); anything more read (an event archived twice, or already caught up) was skipped.
    expect(output.applied + output.caughtUp).toBe(events.length * 2);
    expect(output.applied + output.skippedDuplicates).toBe(output.eventsRead * 2);
    expect(output.durationMs).toBeLessThanOrEqual(Date.now() - started + 1_000);
    expect(await projectionRows()).toEqual(before);

    // Progress is visible as a Map Run: objects done of total.
    const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn: rebuild.executionArn }));
    const run = await sfn.send(new DescribeMapRunCommand({ mapRunArn: mapRuns![0]!.mapRunArn }));
    expect(run.itemCounts).toMatchObject({ total: output.objects + output.objectsOutsideWindow, succeeded: output.objects + output.objectsOutsideWindow, failed: 0 });
  });

  it('replays a window of arrival hours only, and a dry run changes nothing', async () => {
    const dry = await runToEnd('replay', { target: 'projections', from: '2001-01-01T00:00:00Z', to: '2001-01-01T05:00:00Z' });
    expectSucceeded(dry);
    expect(JSON.parse(dry.output!)).toMatchObject({ objects: 0, eventsRead: 0 });

    const before = await projectionRows();
    const now = new Date().toISOString();
    const dryRun = await runToEnd('replay', { target: 'stream', to: now, dryRun: true });
    expectSucceeded(dryRun);
    expect(JSON.parse(dryRun.output!)).toMatchObject({ dryRun: true, applied: 0 });
    expect(JSON.parse(dryRun.output!).eventsRead).toBeGreaterThan(0);
    expect(await projectionRows()).toEqual(before);
  });

  it.each([
    [{ target: 'nowhere' }, /target/],
    [{ target: 'projections', from: 'yesterday' }, /from/],
    [{ target: 'projections', from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00Z' }, /"from" must not be after "to"/],
    [{ target: 'projections', projections: ['no-such-view'] }, /unknown "no-such-view"/],
    [{ target: 'stream', rebuild: true }, /apply to target "projections" only/],
  ])('fails fast with a clear cause on bad input %j', async (input, cause) => {
    const execution = await runToEnd('replay', input);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('InvalidReplayInput');
    expect(execution.cause).toMatch(cause);
  });

  it('names both state machines on the endpoint', async () => {
    const { stateMachines } = await sfn.send(new ListStateMachinesCommand({}));
    expect(stateMachines!.map((m) => m.stateMachineArn).sort()).toEqual([
      'arn:aws:states:us-east-1:000000000000:stateMachine:backfill',
      'arn:aws:states:us-east-1:000000000000:stateMachine:replay',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

/** Shows the error and cause when it did not succeed. */
function expectSucceeded(execution: DescribeExecutionCommandOutput): void {
  expect({ status: execution.status, error: execution.error, cause: execution.cause }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
}

async function runToEnd(machine: 'replay' | 'backfill', input: unknown): Promise<DescribeExecutionCommandOutput> {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${machine}`, input: JSON.stringify(input) }),
  );
  return poll(`${machine} execution`, 180_000, async () => {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return execution.status === 'RUNNING' ? undefined : execution;
  });
}

async function createCarts(count: number): Promise<void> {
  const api = endpointOf(config.ports.api);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${api}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as { cartId: string };
  };
  await Promise.all(
    Array.from({ length: count }, async (_, n) => {
      const { cartId } = await call('POST', '/carts');
      for (let i = 0; i < 4; i++) await call('POST', `/carts/${cartId}/items`, { sku: `SKU-${(n + i) % 5}`, quantity: 1 + ((n * i) % 3) });
      await call('DELETE', `/carts/${cartId}/items/SKU-${n % 5}?quantity=1`);
      if (n % 3 === 0) await call('POST', `/carts/${cartId}/close`);
    }),
  );
}

async function storeEvents(): Promise<EventEnvelope[]> {
  const events: EventEnvelope[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: config.resources.eventStoreTable, ExclusiveStartKey: startKey, ConsistentRead: true }));
    events.push(...(page.Items ?? []).map(toEnvelope));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return events;
}

async function archiveKeys(): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: config.resources.archiveBucket, Prefix: 'events/', ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

async function archivedEventIds(): Promise<string[]> {
  const ids: string[] = [];
  for (const key of await archiveKeys()) {
    const object = await s3.send(new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: config.resources.archiveBucket, Key: key }));
    ids.push(...eventIdsOf(await object.Body!.transformToString()));
  }
  return ids;
}

async function emptyArchive(): Promise<void> {
  const keys = await archiveKeys();
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: config.resources.archiveBucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
  }
}

/** Waits (bounded) until the archiver has archived every stored event; an archive still empty after 6 s has none. */
async function waitForArchiveToHold(ids: readonly string[]): Promise<void> {
  const started = Date.now();
  while (Date.now() < started + 30_000) {
    const archived = new Set(await archivedEventIds());
    if (ids.every((id) => archived.has(id))) return;
    if (archived.size === 0 && Date.now() > started + 6_000) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function projectionRows(): Promise<{ cartSummary: Record<string, unknown>[]; itemPopularity: Record<string, unknown>[] }> {
  const scanAll = async (table: string, key: string) => {
    const rows: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }));
      // updatedAt says when a row was written, not what it holds.
      rows.push(...(page.Items ?? []).map(({ updatedAt: _updatedAt, ...row }) => row));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return rows.sort((a, b) => String(a[key]).localeCompare(String(b[key])));
  };
  return {
    cartSummary: await scanAll(config.resources.cartSummaryTable, 'cartId'),
    itemPopularity: await scanAll(config.resources.itemPopularityTable, 'pk'),
  };
}

function expectRowsToEqualFold(rows: Awaited<ReturnType<typeof projectionRows>>, events: readonly EventEnvelope[]): void {
  const fold = foldProjections(events);
  expect(
    rows.cartSummary.map(({ cartId, status, items, totalQuantity, version }) => ({ cartId, status, items, totalQuantity, version })),
  ).toEqual([...fold.cartSummaries.values()].sort((a, b) => a.cartId.localeCompare(b.cartId)));
  expect(
    rows.itemPopularity
      .filter((row) => String(row.pk).startsWith('SKU#'))
      .map(({ sku, timesAdded, quantityInOpenCarts }) => ({ sku, timesAdded, quantityInOpenCarts }))
      .filter((row) => row.timesAdded !== 0 || row.quantityInOpenCarts !== 0),
  ).toEqual([...fold.itemPopularity.values()].sort((a, b) => a.sku.localeCompare(b.sku)));
}

async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
