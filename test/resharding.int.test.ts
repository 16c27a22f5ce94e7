/**
 * Starts a local stack of its own, so it runs beside other files (test/support/shared-stack-environment.ts).
 * @stack isolated
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeStreamSummaryCommand, ListShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../adapters/aws-clients';
import { startIsolatedStack, type IsolatedStack } from '../local/isolated-stack';
import { awaitConvergence, expectDownstreamPromises } from './reliability/support/pipeline-audit';
import { eventually } from './support/consumers';
import { api, retriedCommand } from './support/local-stack';

/**
 * Resharding while commands flow (docs/scaling.md, "Resharding"): the events stream's shard is split in two with
 * SplitShard, as an operator (or on-demand scaling) does on AWS, while carts are being worked on; the consumers
 * run with parallelization factors above 1. A parent shard must be drained before its children are read, so that
 * a cart's events before the split are handled before its events after it. Its own stack: a split stream would
 * change the shard layout under every other test file.
 */
jest.setTimeout(300_000);

const CARTS = 12;
const ADDS_BEFORE = 4;
const ADDS_AFTER = 4;

let stack: IsolatedStack;
let savedEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  savedEnv = { ...process.env };
  // The local mappings read these as they would read `-c projectionsParallelizationFactor=4` (infra/config.ts).
  process.env.projectionsParallelizationFactor = '4';
  process.env.eventLogParallelizationFactor = '2';
  stack = await startIsolatedStack({ name: 'reshard', log: () => undefined });
  Object.assign(process.env, stack.environment);
});

afterAll(async () => {
  await stack?.stop();
  for (const key of [...Object.keys(stack?.environment ?? {}), 'projectionsParallelizationFactor', 'eventLogParallelizationFactor']) delete process.env[key];
  Object.assign(process.env, savedEnv);
});

describe('splitting the events stream shard while commands flow', () => {
  it('loses nothing, keeps each cart in order in the event log, and leaves every read model equal to the store', async () => {
    const kinesis = kinesisClient();
    const StreamName = stack.config.resources.eventsStream;
    const before = (await kinesis.send(new ListShardsCommand({ StreamName }))).Shards ?? [];
    expect(before.length).toBeGreaterThanOrEqual(1);
    const parent = before[0]!;

    const cartIds: string[] = [];
    for (let i = 0; i < CARTS; i++) cartIds.push((await retriedCommand('POST', '/carts')).body.cartId as string);
    const statuses: number[] = [];
    const work = async (cartId: string, from: number, count: number) => {
      for (let n = from; n < from + count; n++) statuses.push(await command('POST', `/carts/${cartId}/items`, { sku: `SKU-${n % 3}`, quantity: 1 + n }));
    };

    // Commands in flight on every cart while the shard splits at the middle of its hash key range.
    const flowing = Promise.all(cartIds.map((cartId) => work(cartId, 0, ADDS_BEFORE)));
    await eventually('some events in the stream before the split', async () => ((await api('GET', `/read/carts/${cartIds[0]}`)).status === 200 ? true : undefined), 60_000);
    const start = BigInt(parent.HashKeyRange!.StartingHashKey!);
    const end = BigInt(parent.HashKeyRange!.EndingHashKey!);
    await kinesis.send(new SplitShardCommand({ StreamName, ShardToSplit: parent.ShardId!, NewStartingHashKey: ((start + end + 1n) / 2n).toString() }));
    await flowing;
    await eventually(
      'the stream active again',
      async () => ((await kinesis.send(new DescribeStreamSummaryCommand({ StreamName }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE' ? true : undefined),
      30_000,
    );
    // More commands after the split, on every cart, then some closes: these land in the two children.
    await Promise.all(cartIds.map((cartId) => work(cartId, ADDS_BEFORE, ADDS_AFTER)));
    for (const cartId of cartIds.slice(0, 3)) statuses.push(await command('POST', `/carts/${cartId}/close`));
    // A retried command whose first attempt was applied (answer lost) may come back 409: the store is the truth.
    expect(statuses.filter((status) => status >= 300 && status !== 409)).toEqual([]);
    expect(statuses.filter((status) => status < 300).length).toBeGreaterThan(statuses.length / 2);

    const after = (await kinesis.send(new ListShardsCommand({ StreamName }))).Shards ?? [];
    const children = after.filter((shard) => shard.ParentShardId === parent.ShardId);
    expect(children).toHaveLength(2);

    const audit = await awaitConvergence(cartIds, 180_000);
    expectDownstreamPromises(audit);
    expect(audit.storedEvents).toBeGreaterThan(CARTS * (1 + ADDS_BEFORE));

    // Each consumer drained the parent (finished) and went on in its children.
    await eventually(
      'every consumer finished the parent and checkpointed in a child',
      async () => {
        for (const name of ['eventLog', 'projections']) {
          const positions = JSON.parse(readFileSync(join(stack.config.dataDir, 'kinesis-consumers', `${name}.json`), 'utf8')) as Record<string, { sequenceNumber?: string; finished?: boolean }>;
          if (positions[parent.ShardId!]?.finished !== true) return undefined;
          if (!children.some((child) => positions[child.ShardId!]?.sequenceNumber)) return undefined;
        }
        return true;
      },
      60_000,
    );
  });
});

/** A command as a careful client sends it (retriedCommand): applied once, whatever the answers were. */
async function command(method: string, path: string, body?: unknown): Promise<number> {
  return (await retriedCommand(method, path, body)).status;
}
