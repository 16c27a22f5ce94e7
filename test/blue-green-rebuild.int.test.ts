/**
 * Starts a local stack of its own, so it runs beside other files (test/support/shared-stack-environment.ts).
 * @stack isolated
 */
import { PutObjectCommand, DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, StopExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import { dynamoDbDocumentClient } from '../adapters/aws-clients';
import { DynamoDbGenerationPointer } from '../adapters/dynamodb/generation-pointer';
import { archiveHourPrefix } from '../application/replay-window';
import { generationsOf } from '../domain/projections';
import { endpointOf } from '../local/config';
import { startIsolatedStack, type IsolatedStack } from '../local/isolated-stack';
import { eventually } from './support/consumers';
import { api, retriedCommand } from './support/local-stack';
import { currentPhase, PHASES } from '../cli/replay-run';

/**
 * Blue/green rebuilds (docs/replay-and-backfill.md): while a replay rebuild runs, started through the Step
 * Functions API, 20 readers poll GET /read/carts/{id} and a writer keeps changing carts. Every read answers 200 and
 * no reader ever sees a cart's version go down; afterwards every read model equals its cart (no event lost across
 * the switch). A failed or stopped rebuild leaves the live generation serving. Runs on its own stack, with the
 * delivery faults of `npm test` (CHAOS, default all): duplicates, redelivery, reordering.
 */
jest.setTimeout(420_000);

const CARTS = 8;
const READERS = 20;
const REPLAY_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:replay';

let stack: IsolatedStack;
let savedEnv: NodeJS.ProcessEnv;
let sfn: SFNClient;
let s3: S3Client;
let pointer: DynamoDbGenerationPointer;
const cartIds: string[] = [];

beforeAll(async () => {
  savedEnv = { ...process.env };
  stack = await startIsolatedStack({ name: 'blue-green', chaos: process.env.CHAOS ?? 'all', log: () => undefined });
  Object.assign(process.env, stack.environment);
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  sfn = new SFNClient({ endpoint: endpointOf(stack.config.ports.stepfunctions), region: 'us-east-1', credentials });
  s3 = new S3Client({
    endpoint: endpointOf(stack.config.ports.s3),
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  pointer = new DynamoDbGenerationPointer(dynamoDbDocumentClient(), stack.config.resources.cartSummaryTable);
  for (let i = 0; i < CARTS; i++) {
    const cartId = (await retriedCommand('POST', '/carts')).body.cartId as string;
    for (let n = 0; n < 3; n++) await retriedCommand('POST', `/carts/${cartId}/items`, { sku: `BG-${n}`, quantity: n + 1 });
    cartIds.push(cartId);
  }
  await readModelsEqualCarts();
  // The archive holds every event (the archiver may still be buffering): a backfill makes sure of it.
  expectStatus(await runToEnd({ machine: 'backfill', input: {} }), 'SUCCEEDED');
});

afterAll(async () => {
  await stack?.stop();
  for (const key of Object.keys(stack?.environment ?? {})) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

describe('blue/green rebuild', () => {
  it('serves every read with 200 and never a lower version while a rebuild runs, switches, and loses no event', async () => {
    const before = generationsOf(await pointer.read(), 'cart-summary');
    const readers = startReaders();
    const writer = startWriter();
    const execution = await runToEnd({ machine: 'replay', input: { target: 'projections', rebuild: true, retireAfterSeconds: 1 } });
    await writer.stop();
    const report = await readers.stop();

    expectStatus(execution, 'SUCCEEDED');
    const output = JSON.parse(execution.output!);
    expect(output).toMatchObject({ rebuild: true, failedObjects: 0, generation: expect.any(Number) });
    process.stdout.write(`blue/green rebuild: ${report.reads} reads by ${READERS} readers, phases ${JSON.stringify(execution.phases)}\n`);
    expect(report.reads).toBeGreaterThan(READERS * 5);
    // The phases in progress, as `npm run replay` and the console show them (each step long enough to be seen); the
    // wait before retiring counts down the time the old generation has left.
    expect(execution.phases).toEqual(expect.arrayContaining([PHASES.PrepareGeneration, expect.stringMatching(new RegExp(`^${PHASES.WaitBeforeRetire}: retiring in \\d+:\\d\\d$`)), PHASES.RetireGeneration]));
    expect({ non200: report.non200, backwards: report.backwards }).toEqual({ non200: [], backwards: [] });

    const after = generationsOf(await pointer.read(), 'cart-summary');
    expect(after).toEqual({ live: output.generation });
    expect(output.generation).toBeGreaterThan(before.live);
    expect(generationsOf(await pointer.read(), 'item-popularity')).toEqual({ live: output.generation });
    // Every event, including those written during the rebuild, is in the generation that now serves.
    await readModelsEqualCarts();
  });

  it('a failed rebuild leaves the live generation serving, and the consumers stop writing the abandoned one', async () => {
    const before = await pointer.read();
    // One line that is not JSON, with no bad line tolerated: the replay fails after the objects are replayed.
    const badKey = `${archiveHourPrefix(Date.now())}blue-green-bad-${Date.now()}.jsonl`;
    await s3.send(new PutObjectCommand({ Bucket: stack.config.resources.archiveBucket, Key: badKey, Body: 'not json\n' }));
    try {
      const readers = startReaders();
      const execution = await runToEnd({ machine: 'replay', input: { target: 'projections', rebuild: true, maxBadLines: 0, retireAfterSeconds: 1 } });
      const report = await readers.stop();
      expectStatus(execution, 'FAILED');
      expect(execution.error).toBe('TooManyBadLines');
      expect(execution.phases).toContain(PHASES.AbandonFailedRebuild);
      expect({ non200: report.non200, backwards: report.backwards }).toEqual({ non200: [], backwards: [] });
      const after = await pointer.read();
      expect(generationsOf(after, 'cart-summary')).toEqual(generationsOf(before, 'cart-summary'));
      expect(generationsOf(after, 'item-popularity')).toEqual(generationsOf(before, 'item-popularity'));
    } finally {
      await s3.send(new DeleteObjectCommand({ Bucket: stack.config.resources.archiveBucket, Key: badKey }));
    }
    await changeEveryCart();
    await readModelsEqualCarts();
  });

  it('a stopped rebuild leaves the live generation serving, and the next rebuild takes its place', async () => {
    const before = generationsOf(await pointer.read(), 'cart-summary');
    const readers = startReaders();
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: REPLAY_ARN, input: JSON.stringify({ target: 'projections', rebuild: true }) }));
    const building = await eventually('the rebuild to start building a generation', async () => generationsOf(await pointer.read(), 'cart-summary').building, 60_000);
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'OperatorStopped', cause: 'stopped by the blue/green test' }));
    const stopped = await eventually('the execution to stop', async () => {
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return described.status === 'RUNNING' ? undefined : described;
    });
    expect(stopped.status).toBe('ABORTED');
    await changeEveryCart();
    await readModelsEqualCarts();
    const report = await readers.stop();
    expect({ non200: report.non200, backwards: report.backwards }).toEqual({ non200: [], backwards: [] });
    expect(generationsOf(await pointer.read(), 'cart-summary').live).toBe(before.live);

    const next = await runToEnd({ machine: 'replay', input: { target: 'projections', rebuild: true, retireAfterSeconds: 1 } });
    expectStatus(next, 'SUCCEEDED');
    expect(JSON.parse(next.output!).generation).toBeGreaterThan(building);
    expect(generationsOf(await pointer.read(), 'cart-summary')).toEqual({ live: JSON.parse(next.output!).generation });
    await readModelsEqualCarts();
  });
});

interface ReadReport {
  reads: number;
  non200: string[];
  backwards: string[];
}

/** READERS clients, each polling the carts in turn and remembering the highest version it was served per cart. */
function startReaders(): { stop(): Promise<ReadReport> } {
  let running = true;
  const report: ReadReport = { reads: 0, non200: [], backwards: [] };
  const loops = Array.from({ length: READERS }, async (_, reader) => {
    const seen = new Map<string, number>();
    for (let n = reader; running; n++) {
      const cartId = cartIds[n % cartIds.length]!;
      const response = await api('GET', `/read/carts/${cartId}`);
      report.reads++;
      if (response.status !== 200) {
        report.non200.push(`reader ${reader}: ${cartId} answered ${response.status} ${JSON.stringify(response.body)}`);
        continue;
      }
      const version = Number(response.body.version);
      const highest = seen.get(cartId) ?? 0;
      if (version < highest) report.backwards.push(`reader ${reader}: ${cartId} went from version ${highest} to ${version}`);
      seen.set(cartId, Math.max(highest, version));
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
      return report;
    },
  };
}

/** Keeps adding items to the carts, so the live stream moves during the rebuild. */
function startWriter(): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const response = await api('POST', `/carts/${cartIds[n % cartIds.length]}/items`, { body: { sku: `LIVE-${n % 5}`, quantity: 1 } });
      // 503 is the API's documented answer when the event store does not answer in time (a busy machine): the
      // writer moves on, as a client retrying later would; any other 5xx is a failure.
      expect([response.status].filter((status) => status >= 500 && status !== 503)).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function changeEveryCart(): Promise<void> {
  for (const cartId of cartIds) await retriedCommand('POST', `/carts/${cartId}/items`, { sku: 'AFTER', quantity: 1 });
}

/** Every GET /read/carts/{id} at the version and lines of GET /carts/{id}. */
async function readModelsEqualCarts(): Promise<void> {
  await eventually(
    'every read model equal to its cart',
    async () => {
      for (const cartId of cartIds) {
        const [written, read] = await Promise.all([api('GET', `/carts/${cartId}`), api('GET', `/read/carts/${cartId}`)]);
        if (read.status !== 200 || written.body.version !== read.body.version) return undefined;
        const lines = (body: { items: { sku: string; quantity: number }[] }) => body.items.map(({ sku, quantity }) => `${sku}x${quantity}`).sort().join();
        if (lines(written.body) !== lines(read.body)) return undefined;
      }
      return true;
    },
    180_000,
  );
}

/** Starts an execution and polls it to its end, noting the phases the CLI and the console show on the way. */
async function runToEnd(request: { machine: 'replay' | 'backfill'; input: unknown }): Promise<DescribeExecutionCommandOutput & { phases: string[] }> {
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({ stateMachineArn: `arn:aws:states:us-east-1:000000000000:stateMachine:${request.machine}`, input: JSON.stringify(request.input) }),
  );
  const phases: string[] = [];
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return { ...described, phases };
    const phase = await currentPhase(sfn, executionArn!);
    if (phase && phases.at(-1) !== phase) phases.push(phase);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the ${request.machine} execution did not end within 300 s`);
}

function expectStatus(execution: DescribeExecutionCommandOutput, status: string): void {
  expect({ status: execution.status, error: execution.error, cause: execution.cause?.slice(0, 500) }).toMatchObject({ status });
}

