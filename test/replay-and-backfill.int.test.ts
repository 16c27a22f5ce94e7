/**
 * Starts a local stack of its own, so it runs beside other files (test/support/shared-stack-environment.ts).
 * @stack isolated
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
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
import { DeleteCommand, DynamoDBDocumentClient, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { toEnvelope } from '../adapters/dynamodb/event-store';
import { deleteAllItems } from '../adapters/dynamodb/delete-all';
import { GENERATION_POINTER_KEY } from '../adapters/dynamodb/projection-tables';
import { kinesisClient } from '../adapters/aws-clients';
import { eventIdsOf } from '../application/backfill';
import { ProjectionContentionError } from '../application/projections';
import { rejectsKeyOf } from '../application/replay-lines';
import { Throttled } from '../application/replay-ports';
import type { EventEnvelope } from '../domain/events';
import { foldProjections } from '../domain/projections';
import { endpointOf, handlerEnvironment, type LocalConfig } from '../local/config';
import { startIsolatedStack, type IsolatedStack } from '../local/isolated-stack';
import type { AnyHandler } from '../local/lambda/invoke';
import { compileStateMachine } from '../local/stepfunctions/compile';
import { LocalStepFunctions } from '../local/stepfunctions/runtime';
import { createStepFunctionsApi } from '../local/stepfunctions/server';
import { logger } from '../lambdas/observability';
import type { LambdaName } from '../lambdas/registry';
import { readAllKinesisEvents } from './support/cdc-kinesis';
import { retriedCommand } from './support/local-stack';

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
  // Calm: these tests delete archive objects and count exactly what backfill rewrites, which the archiver's injected
  // duplicates and hour-boundary copies would blur. Replay under chaos is covered by test/chaos.int.test.ts.
  stack = await startIsolatedStack({ name: 'replay', chaos: 'off', log: () => undefined });
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
    await waitForArchiveToHold(storeIds); // let the archiver finish, so nothing lands after the check
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
    const rebuild = await runToEnd('replay', { target: 'projections', rebuild: true, retireAfterSeconds: 0 });
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

describe('bad lines in the archive', () => {
  it('a rebuild with three bad lines and a duplicate in an archive object succeeds, reports them and leaves the read models unchanged; the dry run reports the same', async () => {
    expectSucceeded(await runToEnd('backfill', {}));
    expectSucceeded(await runToEnd('replay', { target: 'projections' }));
    const before = await projectionRows();
    expectRowsToEqualFold(before, await storeEvents());

    const key = (await archiveKeys())[0]!;
    const original = await readObject(key);
    const lines = original.trimEnd().split('\n');
    const junkType = JSON.stringify({ ...JSON.parse(lines[0]!), eventId: `junk-${Date.now()}`, type: 'CartExploded' });
    const spoiled = [lines[0], '{"eventId": "cut off', '{"hello":"world"}', junkType, ...lines.slice(1), lines[0]];
    await writeObject(key, `${spoiled.join('\n')}\n`);
    try {
      const byReason = { 'not-json': 1, 'not-an-envelope': 1, 'unknown-type': 1, duplicate: 1 };
      const dry = await runToEnd('replay', { target: 'projections', rebuild: true, dryRun: true });
      expectSucceeded(dry);
      const dryOutput = JSON.parse(dry.output!);
      expect(dryOutput.badLines).toMatchObject({ total: 4, notReplayable: 3, byReason, setAsideUnder: `s3://${config.resources.archiveBucket}/replay-rejects/${nameOf(dry)}/` });
      expect(await projectionRows()).toEqual(before);

      const rebuild = await runToEnd('replay', { target: 'projections', rebuild: true, retireAfterSeconds: 0 });
      expectSucceeded(rebuild);
      const output = JSON.parse(rebuild.output!);
      expect(output.badLines).toMatchObject({ total: 4, notReplayable: 3, byReason });
      expect(await projectionRows()).toEqual(before);
      // The dry run checks exactly what the real run checks.
      const counts = ({ objects, linesRead, eventsRead, badLines }: any) => ({ objects, linesRead, eventsRead, byReason: badLines.byReason });
      expect(counts(dryOutput)).toEqual(counts(output));

      // Each bad line is set aside with its reason, object key and line number, where the operator's command finds it.
      const rejects = (await readObject(rejectsKeyOf(nameOf(rebuild), key))).trimEnd().split('\n').map((row) => JSON.parse(row));
      expect(rejects.map(({ reason, key: k, line }) => ({ reason, key: k, line }))).toEqual([
        { reason: 'not-json', key, line: 2 },
        { reason: 'not-an-envelope', key, line: 3 },
        { reason: 'unknown-type', key, line: 4 },
        { reason: 'duplicate', key, line: spoiled.length },
      ]);
      const listed = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'cli', 'replay-rejects.ts'), '--execution', nameOf(rebuild)], {
        encoding: 'utf8',
        env: { ...process.env, ...stack.environment },
        timeout: 60_000,
      });
      expect(listed.status).toBe(0);
      expect(listed.stdout).toContain(`${key}:2  not-json`);
      expect(listed.stdout).toContain(`4 bad line(s) in 1 object(s) under s3://${config.resources.archiveBucket}/replay-rejects/${nameOf(rebuild)}/`);

      // With a threshold the same lines fail the replay, which names them.
      const strict = await runToEnd('replay', { target: 'projections', dryRun: true, maxBadLines: 2 });
      expect(strict.status).toBe('FAILED');
      expect(strict.error).toBe('TooManyBadLines');
      expect(JSON.parse(strict.cause!).message).toMatch(/^3 line\(s\) could not be replayed, more than maxBadLines 2/);
    } finally {
      await writeObject(key, original);
    }
  });

  it('fails with ReplayFailed and a report naming the object and its error when an archived event cannot be applied', async () => {
    const key = 'events/2001/02/03/04/orphan.jsonl';
    const orphan = { eventId: `orphan-${Date.now()}`, aggregateType: 'Cart', aggregateId: `orphan-cart-${Date.now()}`, version: 2, type: 'ItemAdded', schemaVersion: 1, occurredAt: '2001-02-03T04:05:06.000Z', data: { sku: 'SKU-1', quantity: 1 } };
    await writeObject(key, `${JSON.stringify(orphan)}\n`);
    try {
      const execution = await runToEnd('replay', { target: 'projections', from: '2001-02-03T04:00:00Z', to: '2001-02-03T04:59:59Z' });
      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('ReplayFailed');
      const report = JSON.parse(execution.cause!);
      expect(report.message).toBe('1 archive object(s) could not be replayed (tolerated: 0)');
      expect(report.summary).toMatchObject({ objects: 0, failedObjects: 1 });
      expect(report.failures).toEqual([{ key, error: 'MissingHistoryError', cause: expect.stringContaining(`cart ${orphan.aggregateId}: versions 1..1 are missing from the event store`) }]);
    } finally {
      await s3.send(new DeleteObjectsCommand({ Bucket: config.resources.archiveBucket, Delete: { Objects: [{ Key: key }] } }));
    }
  });
});

describe('failure handling of the state machines, with a fault injected into one step (real handlers, real ASL, in this process)', () => {
  it('retries an object whose projection write lost to a live consumer (ProjectionContentionError)', async () => {
    const keys = await archiveKeys();
    const calls = new Map<string, number>();
    const api = inProcessEndpoint('replayObject', (real) => async (event, context) => {
      const n = (calls.get(event.key) ?? 0) + 1;
      calls.set(event.key, n);
      if (event.key === keys[0] && n === 1) throw new ProjectionContentionError(`cart-summary: cart x kept moving under this writer (20 conflicts)`);
      return real(event, context);
    });
    const execution = await runInProcess(api, 'replay', { target: 'projections' });
    expectSucceeded(execution);
    expect(JSON.parse(execution.output!)).toMatchObject({ failedObjects: 0, objects: keys.length });
    expect(calls.get(keys[0]!)).toBe(2);
  });

  it('fails with BackfillFailed and a report naming the failed segment; the other segment still ran', async () => {
    const api = inProcessEndpoint('backfillSegment', (real) => async (event, context) => {
      if (event.segment === 1) throw new Error('the scan of segment 1 failed');
      return real(event, context);
    });
    // The summary step's ERROR line goes to a captured logger, not the test run's output: asserted below.
    const logged: unknown[][] = [];
    const spy = jest.spyOn(logger, 'error').mockImplementation((...line: unknown[]) => void logged.push(line));
    const execution = await runInProcess(api, 'backfill', { segments: 2, dryRun: true }).finally(() => spy.mockRestore());
    expect(logged).toEqual([['backfill failed', { cause: expect.stringContaining('1 Scan segment(s) failed') }]]);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('BackfillFailed');
    const report = JSON.parse(execution.cause!);
    expect(report.message).toBe('1 Scan segment(s) failed (tolerated: 0); running the backfill again completes them');
    expect(report.summary).toMatchObject({ segments: 2, failedSegments: 1 });
    expect(report.summary.scanned).toBeGreaterThan(0);
    expect(report.failures).toEqual([{ segment: 1, error: 'Error', cause: expect.stringContaining('the scan of segment 1 failed') }]);
  });

  it('backfills a lost archive file again, and a slice retried after writing rewrites its own object (no second copy)', async () => {
    expectSucceeded(await runToEnd('backfill', {}));
    const [lost] = await archiveKeys();
    const lostIds = eventIdsOf(await readObject(lost!));
    expect(lostIds.length).toBeGreaterThan(0);
    await s3.send(new DeleteObjectsCommand({ Bucket: config.resources.archiveBucket, Delete: { Objects: [{ Key: lost! }] } }));

    let calls = 0;
    const api = inProcessEndpoint('backfillSegment', (real) => async (event, context) => {
      const result = await real(event, context);
      calls += 1;
      if (calls === 1) throw new Throttled('scan segment 0: ProvisionedThroughputExceededException (after the object was written)');
      return result;
    });
    const execution = await runInProcess(api, 'backfill', { segments: 1 });
    expectSucceeded(execution);
    expect(calls).toBe(2);
    expect(JSON.parse(execution.output!)).toMatchObject({ missing: lostIds.length, written: lostIds.length, objectsWritten: 1, failedSegments: 0 });
    const written = (await archiveKeys()).filter((key) => key.includes(`backfill-${nameOf(execution)}-`));
    expect(written).toHaveLength(1);
    expect(eventIdsOf(await readObject(written[0]!)).sort()).toEqual([...lostIds].sort());
    const archived = new Set(await archivedEventIds());
    expect((await storeEvents()).filter((event) => !archived.has(event.eventId))).toEqual([]);
  });
});

describe('replay onto the stream (a real run)', () => {
  it('puts every archived event back on the stream flagged replayed, and the projections stay as they were', async () => {
    const before = await projectionRows();
    const storeIds = new Set((await storeEvents()).map((event) => event.eventId));
    const execution = await runToEnd('replay', { target: 'stream' });
    expectSucceeded(execution);
    const output = JSON.parse(execution.output!);
    expect(output).toMatchObject({ target: 'stream', dryRun: false, failedObjects: 0 });
    expect(output.applied).toBe(output.eventsRead);

    const replayed = (await readAllKinesisEvents(kinesisClient())).filter((event) => event.envelope.metadata?.replayed === true);
    expect(replayed).toHaveLength(output.applied);
    expect(new Set(replayed.map((event) => event.envelope.eventId))).toEqual(storeIds);
    expect(replayed.every((event) => event.partitionKey === event.envelope.aggregateId)).toBe(true);
    // The live projection consumer reads the copies as duplicates (same versions): nothing changes.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await projectionRows()).toEqual(before);
  });
});

describe('an event the CDC refuses, written straight into the event store', () => {
  it('is never archived by the backfill, which reports it; a replay afterwards succeeds', async () => {
    const refused = {
      eventId: `refused-${Date.now()}`,
      aggregateType: 'Cart',
      aggregateId: `refused-cart-${Date.now()}`,
      version: 1,
      type: 'CartTeleported',
      schemaVersion: 1,
      occurredAt: new Date().toISOString(),
      data: {},
    };
    await documents.send(new PutCommand({ TableName: config.resources.eventStoreTable, Item: refused }));
    try {
      const backfill = await runToEnd('backfill', {});
      expectSucceeded(backfill);
      const output = JSON.parse(backfill.output!);
      expect(output).toMatchObject({ refused: 1, missing: 0, written: 0, firstRefused: [{ eventId: refused.eventId, aggregateId: refused.aggregateId, version: 1, reason: expect.stringMatching(/^unknown-type: unknown event type "CartTeleported"/) }] });
      expect(await archivedEventIds()).not.toContain(refused.eventId);
      expectSucceeded(await runToEnd('replay', { target: 'projections' }));
    } finally {
      await documents.send(new DeleteCommand({ TableName: config.resources.eventStoreTable, Key: { aggregateId: refused.aggregateId, version: 1 } }));
    }
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
  const apiUrl = endpointOf(config.ports.api);
  // As a careful client sends them (retriedCommand): a busy machine can make the API answer 503 (the event store did
  // not answer within its budget), and the retry with the same key 409 IDEMPOTENT_REQUEST_IN_PROGRESS while the first
  // attempt still runs; both are retried after Retry-After, so each command is applied at most once.
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await retriedCommand<{ cartId: string }>(method, path, body, { apiUrl });
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
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
    ids.push(...eventIdsOf(await readObject(key)));
  }
  return ids;
}

async function emptyArchive(): Promise<void> {
  const keys = await archiveKeys();
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: config.resources.archiveBucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) } }));
  }
}

/** Waits until the archiver has archived every stored event; fails, naming what is missing, if it does not. */
async function waitForArchiveToHold(ids: readonly string[]): Promise<void> {
  let missing: string[] = [...ids];
  await poll(`the archiver to archive ${ids.length} events`, 60_000, async () => {
    const archived = new Set(await archivedEventIds());
    missing = ids.filter((id) => !archived.has(id));
    return missing.length === 0 ? true : undefined;
  }).catch((error: Error) => {
    throw new Error(`${error.message}: ${missing.length} not archived, e.g. ${missing.slice(0, 3).join(', ')}`);
  });
}

async function projectionRows(): Promise<{ cartSummary: Record<string, unknown>[]; itemPopularity: Record<string, unknown>[] }> {
  const scanAll = async (table: string, key: string) => {
    const rows: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }));
      // updatedAt says when a row was written, not what it holds. A rebuild leaves the rows of one generation (the
      // older one is retired): compared without its key prefix, and without the generation pointer.
      rows.push(...(page.Items ?? []).filter((row) => row[key] !== GENERATION_POINTER_KEY).map(({ updatedAt: _updatedAt, ...row }) => withoutGenerationPrefix(row)));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return rows.sort((a, b) => String(a[key]).localeCompare(String(b[key])));
  };
  return {
    cartSummary: await scanAll(config.resources.cartSummaryTable, 'cartId'),
    itemPopularity: await scanAll(config.resources.itemPopularityTable, 'pk'),
  };
}

function withoutGenerationPrefix(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([name, value]) => [name, ['cartId', 'pk', 'board'].includes(name) ? String(value).replace(/^#gen\d+#/, '') : value]));
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

function nameOf(execution: DescribeExecutionCommandOutput): string {
  return execution.executionArn!.split(':').pop()!;
}

async function readObject(key: string): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: config.resources.archiveBucket, Key: key }));
  return object.Body!.transformToString('utf8');
}

async function writeObject(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: config.resources.archiveBucket, Key: key, Body: body }));
}

/**
 * The endpoint's runtime in this process, on this stack's emulators, with one registered Lambda wrapped to inject
 * a fault; every other step is the deployed handler, and the machines are the ASL files.
 */
function inProcessEndpoint(lambda: LambdaName, wrap: (real: AnyHandler) => AnyHandler): ReturnType<typeof createStepFunctionsApi> {
  const machines = new Map((['replay', 'backfill'] as const).map((name) => [name, compileStateMachine(name, config)]));
  const runtime = new LocalStepFunctions(machines, s3, mkdtempSync(join(tmpdir(), 'sfn-in-process-')), (name, load) => (name === lambda ? wrap(load()) : load()));
  return createStepFunctionsApi(runtime);
}

async function runInProcess(api: ReturnType<typeof createStepFunctionsApi>, machine: 'replay' | 'backfill', input: unknown): Promise<DescribeExecutionCommandOutput> {
  const { executionArn } = api.StartExecution!({ stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${machine}`, input: JSON.stringify(input) });
  return poll(`${machine} execution`, 180_000, async () => {
    const execution = api.DescribeExecution!({ executionArn });
    return execution.status === 'RUNNING' ? undefined : (execution as DescribeExecutionCommandOutput);
  });
}
