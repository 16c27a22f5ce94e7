/**
 * Starts a local stack of its own, so it runs beside other files (test/support/shared-stack-environment.ts).
 * @stack isolated
 */
import { isDeepStrictEqual } from 'node:util';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { dynamoDbDocumentClient } from '../adapters/aws-clients';
import { DynamoDbEventStore } from '../adapters/dynamodb/event-store';
import { CHAOS_FAULTS, readChaosCounts } from '../local/chaos/chaos';
import { endpointOf } from '../local/config';
import { startIsolatedStack, type IsolatedStack } from '../local/isolated-stack';
import { auditPipeline, readWholeArchive, readWholeStream, type PipelineAudit } from './reliability/support/pipeline-audit';
import { eventually } from './support/consumers';
import { api, retriedCommand } from './support/local-stack';

/**
 * The delivery guarantees under `npm start -- --chaos`: every fault the stand-ins can inject is on, concurrent
 * commands hit a dozen carts (one of them hot), and what the consumers made of it must equal the event store.
 * A replay rebuild wipes the projections, so this file runs on its own local stack, started here with chaos on.
 */
jest.setTimeout(420_000);

const CARTS = 12;
const HOT_CLIENTS = 6;
const HOT_ADDS = 8;

let stack: IsolatedStack;
let savedEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  savedEnv = { ...process.env };
  stack = await startIsolatedStack({ name: 'chaos', chaos: 'all', log: () => undefined });
  Object.assign(process.env, stack.environment);
});

afterAll(async () => {
  await stack?.stop();
  for (const key of Object.keys(stack?.environment ?? {})) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

/** The write side's view of a cart and the read side's, in the read model's shape. */
async function bothSides(cartId: string): Promise<{ write: unknown; read: unknown }> {
  const [written, read] = await Promise.all([api('GET', `/carts/${cartId}`), api('GET', `/read/carts/${cartId}`)]);
  const shape = (body: { status: string; items: { sku: string; quantity: number }[]; version: number }) => ({
    cartId,
    status: body.status,
    items: [...body.items].map(({ sku, quantity }) => ({ sku, quantity })).sort((a, b) => a.sku.localeCompare(b.sku)),
    totalQuantity: body.items.reduce((n, line) => n + line.quantity, 0),
    version: body.version,
  });
  return { write: written.status === 200 ? shape(written.body) : written.status, read: read.status === 200 ? shape(read.body) : read.status };
}

async function readModels(cartIds: readonly string[]): Promise<unknown[]> {
  return Promise.all(cartIds.map(async (cartId) => (await api('GET', `/read/carts/${cartId}`)).body));
}

describe('delivery guarantees under chaos', () => {
  it('keeps every read model equal to its cart, Kinesis and the archive complete, and a replay rebuild changes nothing', async () => {
    expect(stack.stack.chaos).not.toBe('off');
    const cartIds: string[] = [];
    for (let i = 0; i < CARTS; i++) cartIds.push((await retriedCommand('POST', '/carts')).body.cartId as string);
    const [hot, ...others] = cartIds as [string, ...string[]];

    // Concurrent commands: several clients on the hot cart (conflicts are answered 409 and retried by nobody),
    // and every other cart worked on at the same time. Each is sent as a careful client does (retriedCommand): a 503
    // with Retry-After is a defined answer when DynamoDB Local is slow to answer on a busy machine, and it is
    // retried with the same Idempotency-Key; what is still a 5xx after that fails the test.
    const statuses = new Map<number, number>();
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await retriedCommand(method, path, body);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      return response;
    };
    await Promise.all([
      ...Array.from({ length: HOT_CLIENTS }, async (_, client) => {
        for (let n = 0; n < HOT_ADDS; n++) await call('POST', `/carts/${hot}/items`, { sku: `HOT-${client}-${n % 3}`, quantity: 1 + (n % 2) });
      }),
      ...others.map(async (cartId, i) => {
        for (let n = 0; n < 5; n++) await call('POST', `/carts/${cartId}/items`, { sku: `SKU-${n % 3}`, quantity: n + 1 });
        await call('DELETE', `/carts/${cartId}/items/SKU-1?quantity=1`);
        if (i % 3 === 0) await call('POST', `/carts/${cartId}/close`);
      }),
    ]);
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);

    // Every read model equals its cart.
    await eventually(
      'every GET /read/carts/{id} equal to GET /carts/{id}',
      async () => {
        for (const cartId of cartIds) {
          const { write, read } = await bothSides(cartId);
          if (!isDeepStrictEqual(write, read)) return undefined;
        }
        return true;
      },
      180_000,
    );

    // Kinesis holds every stored event, and more records than events: the chaos is visible.
    const store = new DynamoDbEventStore(dynamoDbDocumentClient(), stack.config.resources.eventStoreTable);
    const stored = (await Promise.all(cartIds.map((cartId) => store.readStream(cartId)))).flatMap((stream) => stream.events);
    const storedIds = new Set(stored.map((e) => e.eventId));
    const inKinesis = (await readWholeStream()).filter((e) => storedIds.has(e.eventId));
    expect(new Set(inKinesis.map((e) => e.eventId))).toEqual(storedIds);
    expect(inKinesis.length).toBeGreaterThan(storedIds.size);

    // The archive holds every eventId (and, Firehose being at-least-once, may hold more lines than that).
    const archiveIds = await eventually(
      'every stored event in the archive',
      async () => {
        const ids = new Set((await readWholeArchive()).map((e) => e?.eventId));
        return [...storedIds].every((id) => ids.has(id)) ? ids : undefined;
      },
      60_000,
    );
    expect([...storedIds].filter((id) => !archiveIds.has(id))).toEqual([]);

    // The event log: each event at least once (a repeat only where a delivery died between its line and its
    // position write), its first lines in version order per cart.
    const audit: PipelineAudit = await eventually(
      'the event log complete',
      async () => {
        const result = await auditPipeline(cartIds);
        return result.missingFromEventLog === 0 ? result : undefined;
      },
      60_000,
    );
    expect({ missingFromEventLog: audit.missingFromEventLog, eventLogOutOfOrder: audit.eventLogOutOfOrder, projectionMismatches: audit.projectionMismatches }).toEqual({
      missingFromEventLog: 0,
      eventLogOutOfOrder: [],
      projectionMismatches: [],
    });

    const injected = readChaosCounts(stack.config.dataDir);
    const injectedTotal = CHAOS_FAULTS.reduce((n, fault) => n + injected[fault], 0);
    expect(injectedTotal).toBeGreaterThan(0);
    process.stdout.write(`chaos injected: ${JSON.stringify(injected)}; Kinesis ${inKinesis.length} records for ${storedIds.size} events; event log repeats ${audit.duplicatesInEventLog}\n`);

    // A replay rebuild through the Step Functions API succeeds and leaves the read models as they were.
    const before = await readModels(cartIds);
    const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
    const sfn = new SFNClient({ endpoint: endpointOf(stack.config.ports.stepfunctions), region: 'us-east-1', credentials });
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({ stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:replay', input: JSON.stringify({ target: 'projections', rebuild: true, retireAfterSeconds: 1 }) }),
    );
    const execution = await eventually(
      'the replay rebuild to end',
      async () => {
        const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        return described.status === 'RUNNING' ? undefined : described;
      },
      240_000,
    );
    expect({ status: execution.status, error: execution.error, cause: execution.cause }).toEqual({ status: 'SUCCEEDED', error: undefined, cause: undefined });
    expect(await readModels(cartIds)).toEqual(before);
  });
});
