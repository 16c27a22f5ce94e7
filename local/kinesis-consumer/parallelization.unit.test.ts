import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import fc from 'fast-check';
import { KINESIS_CONSUMERS, type KinesisConsumerSettings } from '../../lambdas/consumers';
import { localParallelizationFactors } from './component';
import { LocalEventSourceMapping } from './event-source-mapping';
import { laneOf, ShardCheckpointTracker } from './shard-lanes';
import { ShardPositions } from './shard-positions';

/** One open shard whose records are fixed up front; GetRecords hands them out from the iterator's offset. */
function fakeKinesis(records: readonly { cart: string; seq: number }[]): KinesisClient {
  const stored: _Record[] = records.map(({ cart, seq }) => ({
    SequenceNumber: String(seq),
    PartitionKey: cart,
    Data: Buffer.from(JSON.stringify({ cart, seq })),
    ApproximateArrivalTimestamp: new Date(),
  }));
  const send = async (command: unknown) => {
    if (command instanceof DescribeStreamSummaryCommand) return { StreamDescriptionSummary: { StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/test' } };
    if (command instanceof ListShardsCommand) return { Shards: [{ ShardId: 'shardId-000000000000' }] };
    if (command instanceof GetShardIteratorCommand) {
      const after = command.input.StartingSequenceNumber;
      return { ShardIterator: String(after ? stored.findIndex((r) => r.SequenceNumber === after) + 1 : 0) };
    }
    if (command instanceof GetRecordsCommand) {
      const from = Number(command.input.ShardIterator);
      const page = stored.slice(from, from + (command.input.Limit ?? 10_000));
      return { Records: page, NextShardIterator: String(from + page.length) };
    }
    throw new Error(`unexpected ${(command as object).constructor.name}`);
  };
  return { send } as unknown as KinesisClient;
}

interface Invocation {
  readonly records: { cart: string; seq: number }[];
  finish(): void;
}

/** A mapping whose handler answers only when the test says so; every invocation is recorded, in start order. */
function harness(records: readonly { cart: string; seq: number }[], settings: Partial<KinesisConsumerSettings>) {
  const dir = mkdtempSync(join(tmpdir(), 'parallel-esm-'));
  const invocations: Invocation[] = [];
  const inFlight = new Set<Invocation>();
  let waiters: (() => void)[] = [];
  const changed = () => {
    const current = waiters;
    waiters = [];
    current.forEach((wake) => wake());
  };
  const positions = new ShardPositions(join(dir, 'positions.json'));
  const mapping = new LocalEventSourceMapping({
    name: 'test',
    settings: { ...KINESIS_CONSUMERS.projections, maximumBatchingWindowInSeconds: 0, ...settings },
    kinesis: fakeKinesis(records),
    streamName: 'test',
    region: 'us-east-1',
    positions,
    handler: (event: KinesisStreamEvent) =>
      new Promise((resolve) => {
        const invocation: Invocation = {
          records: event.Records.map((r) => JSON.parse(Buffer.from(r.kinesis.data, 'base64').toString()) as { cart: string; seq: number }),
          finish: () => {
            inFlight.delete(invocation);
            resolve({ batchItemFailures: [] });
          },
        };
        invocations.push(invocation);
        inFlight.add(invocation);
        changed();
      }),
    deadLetters: { send: async () => undefined } as never,
    deadLetterSource: 'consumer:test',
    log: () => undefined,
  });
  /** Waits (no timer of its own) until the condition holds after an invocation starts. */
  const until = async (condition: () => boolean) => {
    while (!condition()) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const checkpoint = () => positions.get('shardId-000000000000').sequenceNumber;
  const stop = async () => {
    for (const invocation of inFlight) invocation.finish();
    await mapping.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { mapping, invocations, inFlight, until, checkpoint, stop };
}

/** Two carts that the local mapping puts in different lanes at this factor. */
function cartsInDifferentLanes(factor: number): [string, string] {
  const first = 'cart-a';
  for (let i = 0; ; i++) if (laneOf(`cart-b${i}`, factor) !== laneOf(first, factor)) return [first, `cart-b${i}`];
}

describe('local event source mapping with ParallelizationFactor > 1', () => {
  test('two batches of different carts run at once; the next batch of a cart waits for its previous one', async () => {
    const [a, b] = cartsInDifferentLanes(2);
    const run = harness(
      [
        { cart: a, seq: 1 },
        { cart: a, seq: 2 },
        { cart: b, seq: 3 },
      ],
      { batchSize: 1, parallelizationFactor: 2 },
    );
    try {
      await run.mapping.start();
      await run.until(() => run.invocations.length === 2);
      // a's first and b's only record are both in flight; a's second is held back behind a's first.
      expect(run.invocations.map((i) => i.records.map((r) => r.seq))).toEqual([[1], [3]]);
      expect(run.inFlight.size).toBe(2);
      run.invocations[0]!.finish();
      await run.until(() => run.invocations.length === 3);
      expect(run.invocations[2]!.records).toEqual([{ cart: a, seq: 2 }]);
      // b (sequence 3) is still in flight: the shard is checkpointed only up to a's records before it.
      run.invocations[2]!.finish();
      await new Promise((resolve) => setImmediate(resolve));
      expect(run.checkpoint()).toBe("2");
      run.invocations[1]!.finish();
      await waitForCheckpoint(run.checkpoint, '3');
    } finally {
      await run.stop();
    }
  }, 30_000);

  test('factor 1 keeps one batch per shard in flight', async () => {
    const [a, b] = cartsInDifferentLanes(2);
    const run = harness(
      [
        { cart: a, seq: 1 },
        { cart: b, seq: 2 },
      ],
      { batchSize: 1, parallelizationFactor: 1 },
    );
    try {
      await run.mapping.start();
      await run.until(() => run.invocations.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(run.invocations).toHaveLength(1);
      run.invocations[0]!.finish();
      await run.until(() => run.invocations.length === 2);
    } finally {
      await run.stop();
    }
  }, 30_000);

  test('any finishing order: no cart is ever in two invocations at once, each cart is handled in order, and the checkpoint never passes an unhandled record', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 100 }),
        async (cartIndexes, factor, batchSize, picks) => {
          const records = cartIndexes.map((cart, i) => ({ cart: `cart-${cart}`, seq: i + 1 }));
          const run = harness(records, { batchSize, parallelizationFactor: factor });
          const handled: { cart: string; seq: number }[] = [];
          try {
            await run.mapping.start();
            let step = 0;
            while (handled.length < records.length) {
              await run.until(() => run.inFlight.size > 0);
              const carts = [...run.inFlight].flatMap((i) => [...new Set(i.records.map((r) => r.cart))]);
              expect(new Set(carts).size).toBe(carts.length);
              const flying = [...run.inFlight];
              const chosen = flying[picks[step++ % picks.length]! % flying.length]!;
              handled.push(...chosen.records);
              chosen.finish();
              await new Promise((resolve) => setImmediate(resolve));
              const checkpoint = Number(run.checkpoint() ?? 0);
              const handledSeqs = new Set(handled.map((r) => r.seq));
              for (let seq = 1; seq <= checkpoint; seq++) expect(handledSeqs.has(seq)).toBe(true);
            }
            for (const cart of new Set(records.map((r) => r.cart))) {
              expect(handled.filter((r) => r.cart === cart).map((r) => r.seq)).toEqual(records.filter((r) => r.cart === cart).map((r) => r.seq));
            }
            await waitForCheckpoint(run.checkpoint, String(records.length));
          } finally {
            await run.stop();
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});

describe('the local factors are the deployment\'s', () => {
  test('cdk.json context, an environment variable of the same name overriding it, range-checked as at synth', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdk-json-'));
    const file = join(dir, 'cdk.json');
    writeFileSync(file, JSON.stringify({ context: { eventLogParallelizationFactor: 3 } }));
    try {
      expect(localParallelizationFactors({}, file)).toEqual({ eventLog: 3, projections: 1 });
      expect(localParallelizationFactors({ projectionsParallelizationFactor: '4' }, file)).toEqual({ eventLog: 3, projections: 4 });
      expect(() => localParallelizationFactors({ projectionsParallelizationFactor: '12' }, file)).toThrow(/projectionsParallelizationFactor/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('shard checkpoint across lanes', () => {
  test('moves only over records handled with every record before them', () => {
    const tracker = new ShardCheckpointTracker();
    ['1', '2', '3', '4'].forEach((s) => tracker.add(s));
    expect(tracker.handle(['2', '4'])).toBeUndefined();
    expect(tracker.handle(['1'])).toBe('2');
    expect(tracker.outstanding).toBe(2);
    expect(tracker.handle(['3'])).toBe('4');
    expect(tracker.outstanding).toBe(0);
  });

  test('a partition key always lands in the same lane, within the factor', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 10 }), (key, lanes) => {
        const lane = laneOf(key, lanes);
        expect(lane).toBe(laneOf(key, lanes));
        expect(lane).toBeGreaterThanOrEqual(0);
        expect(lane).toBeLessThan(lanes);
      }),
      { numRuns: 200 },
    );
  });
});

/** The checkpoint is written after the handler's promise settles, a few microtasks later: poll it briefly. */
async function waitForCheckpoint(checkpoint: () => string | undefined, expected: string): Promise<void> {
  for (let i = 0; i < 1000 && checkpoint() !== expected; i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(checkpoint()).toBe(expected);
}
