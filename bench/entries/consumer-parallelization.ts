import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../adapters/aws-clients';
import type { EventEnvelope } from '../../domain/events';
import { consumerDeadLetterSource, KINESIS_CONSUMERS } from '../../lambdas/consumers';
import { loadHandler } from '../../local/lambda/invoke';
import { LocalEventSourceMapping } from '../../local/kinesis-consumer/event-source-mapping';
import { ShardPositions } from '../../local/kinesis-consumer/shard-positions';
import { listShards } from '../../local/kinesis-consumer/shard-reader';
import { waitFor } from '../../local/resources';
import type { BenchContext, BenchEntry } from '../harness';
import { cartEnvelopes } from '../support/cart-events';

/**
 * The projections consumer at parallelization factor 1 vs 4 (issue 25): the same backlog of events (many carts,
 * interleaved, one shard) drained by the local event source mapping with the real projections handler against
 * DynamoDB Local. Events/s is the backlog over the time to checkpoint its last record; lag is the age of the last
 * record when it was checkpointed (the iterator age at the end). docs/scaling.md reads the ratio.
 */
export const consumerParallelization: BenchEntry = {
  name: 'consumer-parallelization',
  title: 'Consumers: parallelization factor 1 vs 4 on one shard',
  async run(ctx) {
    const carts = ctx.scale(200, 40);
    const eventsPerCart = ctx.scale(20, 5);
    const results = new Map<number, { seconds: number; eventsPerSecond: number; lagMs: number }>();
    for (const factor of [1, 4]) {
      ctx.log(`factor ${factor}: ${carts} carts x ${eventsPerCart} events on one shard...`);
      results.set(factor, await drain(ctx, factor, carts, eventsPerCart));
    }
    const one = results.get(1)!;
    const four = results.get(4)!;
    ctx.table({
      title: 'Projections consumer draining one shard\u2019s backlog (batches of 100, window 0)',
      columns: ['parallelization factor', 'events', 'seconds', 'events/s', 'lag of the last record (ms)'],
      rows: [1, 4].map((factor) => {
        const r = results.get(factor)!;
        return [factor, carts * eventsPerCart, Math.round(r.seconds * 100) / 100, Math.round(r.eventsPerSecond), Math.round(r.lagMs)];
      }),
      notes: [
        'One local process runs the mapping and the handler; DynamoDB Local takes the writes. On AWS each concurrent batch is its own Lambda invocation, so the gain there is bounded by DynamoDB, not by one process.',
        'Per-cart order holds at any factor: one cart\u2019s records are never in two batches at once (local/kinesis-consumer/shard-lanes.ts).',
      ],
    });
    ctx.ratio({ name: 'projections events/s, one shard, factor 4 vs 1', subject: 'factor 4', subjectValue: four.eventsPerSecond, baseline: 'factor 1', baselineValue: one.eventsPerSecond, unit: 'events/s', higherIsBetter: true });
    ctx.ratio({ name: 'lag of the last record, factor 4 vs 1', subject: 'factor 4', subjectValue: four.lagMs, baseline: 'factor 1', baselineValue: one.lagMs, unit: 'ms', higherIsBetter: false });
  },
};

async function drain(ctx: BenchContext, factor: number, carts: number, eventsPerCart: number): Promise<{ seconds: number; eventsPerSecond: number; lagMs: number }> {
  const kinesis = kinesisClient();
  const stream = `bench-parallel-${factor}-${Date.now()}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }));
  await waitFor(`stream ${stream}`, async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE');
  const histories = Array.from({ length: carts }, () => cartEnvelopes(randomUUID(), 0, eventsPerCart));
  const events: EventEnvelope[] = [];
  for (let v = 0; v < eventsPerCart; v++) for (const history of histories) events.push(history[v]!);
  let lastSequence = '';
  for (let i = 0; i < events.length; i += 500) {
    let batch = events.slice(i, i + 500);
    while (batch.length > 0) {
      const result = await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: batch.map((e) => ({ Data: Buffer.from(JSON.stringify(e)), PartitionKey: e.aggregateId })) }));
      for (const record of result.Records ?? []) if (record.SequenceNumber && (!lastSequence || BigInt(record.SequenceNumber) > BigInt(lastSequence))) lastSequence = record.SequenceNumber;
      batch = batch.filter((_, index) => result.Records?.[index]?.ErrorCode);
    }
  }
  const putDone = Date.now();
  const [shard] = await listShards(kinesis, stream);
  const dir = mkdtempSync(join(tmpdir(), 'bench-parallel-'));
  const positions = new ShardPositions(join(dir, 'positions.json'));
  const mapping = new LocalEventSourceMapping({
    name: `projections-x${factor}`,
    settings: { ...KINESIS_CONSUMERS.projections, parallelizationFactor: factor },
    kinesis,
    streamName: stream,
    region: 'us-east-1',
    positions,
    handler: loadHandler('projections'),
    deadLetters: { send: async (letters: unknown) => void ctx.log(`dead letter: ${JSON.stringify(letters)}`) } as never,
    deadLetterSource: consumerDeadLetterSource('projections'),
    log: (line) => ctx.log(line),
  });
  const started = performance.now();
  await mapping.start();
  try {
    while (positions.get(shard!.ShardId!).sequenceNumber !== lastSequence) await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await mapping.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  return { seconds, eventsPerSecond: events.length / seconds, lagMs: Date.now() - putDone };
}
