import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { dynamoDbDocumentClient, s3Client, sfnClient } from '../../adapters/aws-clients';
import { S3ArchiveObjects } from '../../adapters/s3/replay-archive';
import { STATE_MACHINES } from '../../statemachines/state-machines';
import { CHART_IDS, type BenchEntry } from '../harness';
import { archiveDayPrefix, deleteArchivePrefix, EVENTS_PER_CART, EVENTS_PER_OBJECT, READ_CONCURRENCY, readAndParse, seedArchive } from '../support/archive';
import { deleteCartRows, timeProjectionWriteFloor } from '../support/projection-rows';

/** The carts this entry invents (and deletes from the read models when done). */
const CART_ID_PREFIX = 'bench-replay-';
/**
 * DynamoDB Local's JVM compiles its transactional write path over its first ~20,000-30,000 item writes, each of
 * them costing 2-4x the steady state meanwhile (measured with the Java process's CPU time per item). One replay of
 * this size, not reported, comes first so that the measured replays see the emulator as it runs for the rest.
 */
const WARM_UP_EVENTS = 30_000;
/** The replay's Distributed Map MaxConcurrency, read from its ASL file: the write floor uses as many writers. */
const MAP_CONCURRENCY = (
  JSON.parse(readFileSync(join(__dirname, '..', '..', STATE_MACHINES.replay.definitionFile), 'utf8')) as { States: { ReplayObjects: { MaxConcurrency: number } } }
).States.ReplayObjects.MaxConcurrency;

/**
 * Replay throughput: the replay state machine (local endpoint, Distributed Map, one Lambda per archive object,
 * applying to both projections in DynamoDB Local) over a seeded archive, against the floor of reading and
 * parsing the same objects from s3rver (list, GetObject, JSON + envelope validation) without applying them.
 */
export const replayThroughput: BenchEntry = {
  name: 'replay',
  title: 'Replay: events/s through the state machine into the projections, against reading and parsing the archive',
  async run(ctx) {
    const sizes = ctx.scale([20_000, 100_000], [1_000, 3_000]);
    const s3 = s3Client();
    const bucket = ctx.stack.resources.archiveBucket;
    const archive = new S3ArchiveObjects(s3, bucket);
    const sfn = sfnClient();
    const days: string[] = [];
    ctx.cleanUp(async () => {
      for (const day of days) await deleteArchivePrefix(s3, archive, bucket, archiveDayPrefix(day));
      const carts = await deleteCartRows(dynamoDbDocumentClient(), ctx.stack.resources, CART_ID_PREFIX);
      ctx.log(`removed ${days.length} archive days and the read-model rows of ${carts} carts`);
    });
    /** Seeds `size` events in their own archive day (long past, so nothing live lands there) and replays that day. */
    const replayDay = async (size: number) => {
      const day = `2001-01-${String(days.length + 1).padStart(2, '0')}`;
      days.push(day);
      const prefix = archiveDayPrefix(day);
      ctx.log(`seeding ${size} events under ${prefix}...`);
      const { objects } = await seedArchive(archive, prefix, size, CART_ID_PREFIX);
      const floor = await readAndParse(archive, prefix);
      if (floor.events !== size) throw new Error(`the floor read ${floor.events} events, expected ${size}`);
      ctx.log(`replaying ${size} events...`);
      const seconds = await replay(sfn, day, size);
      return { objects, seconds, floor };
    };

    const warmUp = ctx.quick ? undefined : await replayDay(WARM_UP_EVENTS);
    if (warmUp) ctx.log(`warm-up: ${WARM_UP_EVENTS} events replayed at ${Math.round(WARM_UP_EVENTS / warmUp.seconds)} events/s (not reported)`);
    const rows = [];
    const replayPoints: { x: number; y: number }[] = [];
    const floorPoints: { x: number; y: number }[] = [];
    for (const size of sizes) {
      const { objects, seconds, floor } = await replayDay(size);
      const replayRate = size / seconds;
      const floorRate = size / floor.seconds;
      const writes = await timeProjectionWriteFloor(new DynamoDBClient({}), ctx.stack, Math.ceil(size / EVENTS_PER_CART), MAP_CONCURRENCY);
      const writeFloorRate = size / writes.seconds;
      rows.push([size, objects, Math.round(replayRate), Math.round(floorRate), +(replayRate / floorRate).toFixed(3), Math.round(writeFloorRate), +(replayRate / writeFloorRate).toFixed(2), +seconds.toFixed(1)]);
      replayPoints.push({ x: size, y: replayRate });
      floorPoints.push({ x: size, y: floorRate });
      ctx.ratio({
        name: `replay events/s, ${size} events`,
        subject: 'replay into projections',
        subjectValue: replayRate,
        baseline: 'read + parse floor',
        baselineValue: floorRate,
        unit: 'events/s',
        higherIsBetter: true,
      });
      ctx.ratio({
        name: `replay events/s, ${size} events, against DynamoDB Local's floor for its writes`,
        subject: 'replay into projections',
        subjectValue: replayRate,
        baseline: 'the same carts\' rows written alone',
        baselineValue: writeFloorRate,
        unit: 'events/s',
        higherIsBetter: true,
      });
      ctx.log(`${size} events: replay ${Math.round(replayRate)} events/s, read+parse floor ${Math.round(floorRate)} events/s, write floor ${Math.round(writeFloorRate)} events/s`);
    }
    ctx.table({
      title: 'Replay into both projections vs reading and parsing the same archive',
      columns: ['events', 'objects', 'replay events/s', 'read+parse floor events/s', 'replay ÷ read+parse floor', 'write floor events/s', 'replay ÷ write floor', 'replay seconds'],
      rows,
      notes: [
        `archive: JSON Lines objects of ${EVENTS_PER_OBJECT} events, carts of ${EVENTS_PER_CART} events, each cart within one object`,
        `replay = the replay state machine on the local endpoint (Distributed Map, MaxConcurrency ${MAP_CONCURRENCY}, one Lambda per object), applying every event to cart-summary and item-popularity in DynamoDB Local; timed from StartExecution to SUCCEEDED`,
        'each object\'s 100 carts are written in a few transactions (cart-summary: up to 100 conditional Puts each; item-popularity: up to ~90 cursor moves plus merged sku rows each); the replay is bounded by those writes in DynamoDB Local (-inMemory, one Java process on the same 2 cores), not by reading the archive: see the floor',
        `read+parse floor = ListObjectsV2 + GetObject of the same objects from s3rver, ${READ_CONCURRENCY} at a time, each line JSON-parsed and validated as an EventEnvelope, nothing applied`,
        `write floor = the least DynamoDB work the replay must do, timed alone: per cart one conditional Put of its final cart-summary row and one of its item-popularity cursor, in transactions of 100, ${MAP_CONCURRENCY} at a time, into fresh tables of the same shape (no reads, folds, sequencing or sku rows); events/s = events ÷ those seconds`,
        ...(warmUp ? [`measured after a warm-up replay of ${WARM_UP_EVENTS.toLocaleString('en-US')} events (${Math.round(WARM_UP_EVENTS / warmUp.seconds).toLocaleString('en-US')} events/s, not in the table): DynamoDB Local's JVM compiles its write path over its first few tens of thousands of writes`] : []),
      ],
    });
    ctx.series({ chart: CHART_IDS.replayVsFloor, chartTitle: 'Replay throughput vs the read+parse floor', xLabel: 'events in the archive window', yLabel: 'events/s', logY: true, name: 'replay into projections', points: replayPoints });
    ctx.series({ chart: CHART_IDS.replayVsFloor, chartTitle: 'Replay throughput vs the read+parse floor', xLabel: 'events in the archive window', yLabel: 'events/s', logY: true, name: 'read + parse floor', points: floorPoints });
  },
};

/** Runs the replay state machine over one archive day through the local Step Functions endpoint; its seconds. */
async function replay(sfn: ReturnType<typeof sfnClient>, day: string, size: number): Promise<number> {
  const started = performance.now();
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:replay',
      name: `bench-${randomUUID()}`,
      input: JSON.stringify({ target: 'projections', from: `${day}T00:00:00Z`, to: `${day}T23:59:59Z` }),
    }),
  );
  let execution;
  do {
    await new Promise((resolve) => setTimeout(resolve, 100));
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } while (execution.status === 'RUNNING');
  const seconds = (performance.now() - started) / 1000;
  if (execution.status !== 'SUCCEEDED') throw new Error(`replay ${execution.status}: ${execution.error}: ${execution.cause}`);
  const output = JSON.parse(execution.output!) as { eventsRead: number; applied: number };
  if (output.eventsRead !== size || output.applied !== size * 2) throw new Error(`replay read ${output.eventsRead} and applied ${output.applied}, expected ${size} and ${size * 2}`);
  return seconds;
}
