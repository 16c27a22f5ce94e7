import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, DescribeMapRunCommand, GetExecutionHistoryCommand, ListMapRunsCommand, StartExecutionCommand, StopExecutionCommand, type DescribeExecutionCommandOutput, type SFNClient } from '@aws-sdk/client-sfn';
import { dynamoDbDocumentClient, s3Client, sfnClient } from '../../adapters/aws-clients';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { DynamoDbGenerationPointer } from '../../adapters/dynamodb/generation-pointer';
import { S3ArchiveObjects } from '../../adapters/s3/replay-archive';
import { mapLimit } from '../../application/sequencer';
import { generationsOf } from '../../domain/projections';
import { currentPhase, progressLine } from '../../cli/replay-run';
import { endpointOf } from '../../local/config';
import type { BenchContext, BenchEntry } from '../harness';
import { archiveDayPrefix, EVENTS_PER_CART, EVENTS_PER_OBJECT, READ_CONCURRENCY, readAndParse, seedArchive, deleteArchivePrefix } from '../support/archive';
import { percentile } from '../support/measure';

const READERS = 20;
const REPLAY_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:replay';
/** The entry's own archive day, long past and apart from the replay entry's days: the rebuild window selects it alone. */
const DAY = '2001-02-01';
/** Items added to each real cart after it is opened: its history is 1 + ITEMS_PER_CART events. */
const ITEMS_PER_CART = 2;
const RETIRE_AFTER_SECONDS = 2;
/**
 * The time-out is sized for a replay of 10,000 events/s (about today's on a quiet machine), times 3 for a busy one,
 * plus 180 s for the phases that do not grow with the archive (Prepare, CatchUp, Retire: these grow with the live generation).
 */
const SIZING_EVENTS_PER_SECOND = 10_000;
const PROJECTIONS = 2;

/**
 * A blue/green rebuild at scale (issue 13): `{"target":"projections","rebuild":true}` over one archive day of
 * `size` seeded events plus the archived events of real carts, started through the Step Functions API, against the
 * floor of reading and parsing the same archive; and, while it runs, 20 readers polling `GET /read/carts/{id}`
 * of those real carts: every read must answer 200 and never show a cart at a lower version than that reader saw
 * before (the same readers poll for 30 s before the rebuild, for the baseline).
 */
export const rebuildAvailability: BenchEntry = {
  name: 'rebuild',
  title: 'Blue/green rebuild: events/s against the read+parse floor, and read availability while it runs',
  async run(ctx) {
    const size = ctx.scale(1_000_000, 20_000);
    const cartCount = ctx.scale(150, 20);
    const apiUrl = endpointOf(ctx.stack.ports.api);
    const s3 = s3Client();
    const bucket = ctx.stack.resources.archiveBucket;
    const archive = new S3ArchiveObjects(s3, bucket);
    const sfn = sfnClient();
    const pointer = new DynamoDbGenerationPointer(dynamoDbDocumentClient(), ctx.stack.resources.cartSummaryTable);
    const prefix = archiveDayPrefix(DAY);
    ctx.cleanUp(async () => {
      const deleted = await deleteArchivePrefix(s3, archive, bucket, prefix);
      ctx.log(`clean-up: deleted ${deleted} archive objects under ${prefix}`);
    });

    ctx.log(`creating ${cartCount} carts over HTTP...`);
    const carts = await createCarts(apiUrl, cartCount);
    await waitForReadModels(apiUrl, carts);
    // Their events go into the rebuilt day too, so the rebuild really rebuilds the carts the readers poll.
    const realEvents = await archiveRealCarts(ctx, archive, prefix, carts);

    ctx.log(`seeding ${size} events under ${prefix}...`);
    const seeded = await seedArchive(archive, prefix, size);
    const total = size + realEvents.events;
    ctx.log(`seeded ${size} events in ${seeded.objects} objects in ${seeded.seconds.toFixed(1)} s`);
    const floor = await readAndParse(archive, prefix);
    if (floor.events !== total) throw new Error(`the floor read ${floor.events} events, expected ${total}`);

    const readers = new Readers(apiUrl, [...carts.keys()]);
    const expectedSeconds = total / SIZING_EVENTS_PER_SECOND;
    // Shorter than the rebuild in a full run, whose length is not known beforehand: a rate needs no equal length, and the budget is 10 minutes.
    const baselineMs = ctx.scale(30_000, 5_000);
    ctx.log(`baseline: ${READERS} readers for ${baselineMs / 1000} s without a rebuild...`);
    const before = await readers.pollFor(baselineMs);

    const live = generationsOf(await pointer.read(), 'cart-summary').live;
    ctx.log(`rebuilding ${total} events (generation ${live} live) with ${READERS} readers polling...`);
    const polling = readers.pollUntilStopped();
    const rebuild = await runRebuild(ctx, sfn, 3 * expectedSeconds + 180).catch(async (error: unknown) => {
      await polling.stop();
      throw error;
    });
    const during = await polling.stop();
    try {
      await checkAndReportRebuild(ctx, rebuild, { size, total, seeded, realEvents, carts: carts.size, floorSeconds: floor.seconds, live }, pointer);
    } finally {
      // What the readers saw and how long each phase took are worth reporting even when the rebuild failed.
      reportAvailability(ctx, carts.size, before, during);
      reportPhases(ctx, await phaseDurations(sfn, rebuild.execution), rebuild.seconds, during.missedAt);
    }
    const failures = [...before.failures, ...during.failures];
    if (failures.length > 0) {
      throw new Error(`${before.reads + during.reads - before.ok - during.ok} reads not 200 and ${before.backwards + during.backwards} backwards, e.g. ${failures.slice(0, 5).join('; ')}`);
    }
  },
};

interface RebuildSetup {
  /** Events seeded, and in all (with the real carts' events). */
  readonly size: number;
  readonly total: number;
  readonly seeded: { readonly objects: number; readonly seconds: number };
  readonly realEvents: { readonly events: number; readonly objects: number };
  readonly carts: number;
  readonly floorSeconds: number;
  /** The generation live before the rebuild. */
  readonly live: number;
}

/** Fails unless the rebuild succeeded with the right counts and left the new generation alone live; then reports its rate. */
async function checkAndReportRebuild(ctx: BenchContext, rebuild: RebuildRun, run: RebuildSetup, pointer: DynamoDbGenerationPointer): Promise<void> {
  const { execution, seconds } = rebuild;
  if (rebuild.timedOut) {
    throw new Error(
      `the rebuild did not end within ${Math.round(seconds)} s (sized for ${SIZING_EVENTS_PER_SECOND} events/s) and was stopped; ` +
        `${rebuild.objectsDone ?? '?'} of ${run.seeded.objects + run.realEvents.objects} objects were replayed by then`,
    );
  }
  if (execution.status !== 'SUCCEEDED') throw new Error(`the rebuild ${execution.status}: ${execution.error}: ${execution.cause?.slice(0, 1_000)}`);
  const output = JSON.parse(execution.output!) as { eventsRead: number; applied: number; caughtUp: number; objects: number; failedObjects: number; badLines: { total: number }; generation: number };
  const expected = { eventsRead: run.total, applied: run.total * PROJECTIONS, failedObjects: 0, badLines: 0, objects: run.seeded.objects + run.realEvents.objects };
  const got = { eventsRead: output.eventsRead, applied: output.applied, failedObjects: output.failedObjects, badLines: output.badLines.total, objects: output.objects };
  if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`the rebuild reported ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
  const after = await pointer.read();
  for (const projection of ['cart-summary', 'item-popularity']) {
    const generations = generationsOf(after, projection);
    if (JSON.stringify(generations) !== JSON.stringify({ live: output.generation }) || output.generation <= run.live) {
      throw new Error(`after the rebuild ${projection} has generations ${JSON.stringify(generations)}, expected only the new one (${output.generation}, after ${run.live}) live`);
    }
  }

  const rate = run.total / seconds;
  const floorRate = run.total / run.floorSeconds;
  ctx.table({
    title: `Blue/green rebuild of ${run.total.toLocaleString('en-US')} archived events vs reading and parsing the same archive`,
    columns: ['events', 'objects', 'rebuild events/s', 'floor events/s', 'rebuild ÷ floor', 'rebuild seconds', 'seeding seconds', 'seeding events/s'],
    rows: [[run.total, String(output.objects), Math.round(rate), Math.round(floorRate), +(rate / floorRate).toFixed(3), +seconds.toFixed(1), +run.seeded.seconds.toFixed(1), Math.round(run.size / run.seeded.seconds)]],
    notes: [
      `archive: one day (${DAY}) of JSON Lines objects of ${EVENTS_PER_OBJECT} events (carts of ${EVENTS_PER_CART} events, each within one object), plus ${run.realEvents.objects} object(s) holding the ${run.realEvents.events} events of the ${run.carts} real carts the readers poll`,
      `rebuild = StartExecution of the replay state machine on the local endpoint with {"target":"projections","rebuild":true,"retireAfterSeconds":${RETIRE_AFTER_SECONDS}} over that day, timed from StartExecution to SUCCEEDED (Prepare, Replay, CatchUp, Switch, the wait, Retire), with ${READERS} readers polling all along`,
      `checked: eventsRead = ${run.total}, applied = ${run.total * PROJECTIONS} (both projections), no failed object, no bad line; afterwards the pointer names the new generation alone (${run.live} -> ${output.generation}); caughtUp ${output.caughtUp}`,
      `floor = ListObjectsV2 + GetObject of the same objects from s3rver, ${READ_CONCURRENCY} at a time, each line JSON-parsed and validated as an EventEnvelope, nothing applied`,
      `seeding = generating and PUTting the ${run.seeded.objects} objects to s3rver, 16 at a time (not part of any ratio)`,
    ],
  });
  ctx.ratio({ name: `rebuild events/s, ${run.total} events`, subject: 'blue/green rebuild', subjectValue: rate, baseline: 'read + parse floor', baselineValue: floorRate, unit: 'events/s', higherIsBetter: true });
  ctx.log(`rebuild ${Math.round(rate)} events/s (floor ${Math.round(floorRate)})`);
}

function reportAvailability(ctx: BenchContext, carts: number, before: ReadStats, during: ReadStats): void {
  ctx.table({
    title: `Read availability: ${READERS} readers polling GET /read/carts/{id} of ${carts} carts`,
    columns: ['period', 'seconds', 'reads', 'reads/s', 'answered 200', 'never backwards', '404', '5xx', 'other', 'p50 ms', 'p99 ms'],
    rows: [before, during].map((r, i) => [
      i === 0 ? 'before (no rebuild)' : 'during the rebuild',
      +r.seconds.toFixed(1),
      r.reads,
      Math.round(r.reads / r.seconds),
      share(r.ok, r.reads),
      share(r.ok - r.backwards, r.ok),
      r.notFound,
      r.serverErrors,
      r.reads - r.ok - r.notFound - r.serverErrors,
      Math.round(percentile(r.latenciesMs, 0.5)),
      Math.round(percentile(r.latenciesMs, 0.99)),
    ]),
    notes: [
      `each reader polls the carts in turn, one request at a time; "never backwards" = share of the 200s whose version is not below the highest that reader had seen for that cart (before or during)`,
      `the carts were created over the HTTP API (1 CartOpened + ${ITEMS_PER_CART} ItemAdded each) and were in the live read models before the baseline; their archived events are in the rebuilt day`,
      'goal: 100% answered 200 and 100% never backwards; the entry fails otherwise',
    ],
  });
  ctx.ratio({ name: 'reads/s during a rebuild', subject: 'during the rebuild', subjectValue: during.reads / during.seconds, baseline: 'before it', baselineValue: before.reads / before.seconds, unit: 'reads/s', higherIsBetter: true });
  ctx.ratio({ name: 'share of reads answered 200 and never backwards', subject: 'during the rebuild', subjectValue: (during.ok - during.backwards) / during.reads, baseline: 'before it', baselineValue: (before.ok - before.backwards) / before.reads, unit: 'share', higherIsBetter: true });
}

function reportPhases(ctx: BenchContext, phases: readonly Phase[], seconds: number, missedAt: readonly number[]): void {
  const missesIn = (phase: Phase) => missedAt.filter((at) => phase.intervals.some(([from, to]) => at >= from && at < to)).length;
  ctx.table({
    title: 'Rebuild phases (from the execution history)',
    columns: ['phase', 'state', 'seconds', 'share of the rebuild', 'reads not 200 or backwards'],
    rows: phases.map((phase) => [PHASE_NAMES[phase.state] ?? phase.state, phase.state, +phase.seconds.toFixed(1), `${((100 * phase.seconds) / seconds).toFixed(1)}%`, missesIn(phase)]),
    notes: [
      "each state of the replay state machine that does work, from its entry to the entry of the next one (as GetExecutionHistory gives them); the rest of the rebuild's time is StartExecution and polling",
      "Replay = ReplayObjects, the Distributed Map over the archive objects (16 at a time); Wait = the configured retireAfterSeconds; Retire deletes the old generation's rows",
      'the last column counts the readers\' misses by the phase during which their answer came',
    ],
  });
}

function share(part: number, whole: number): string {
  return whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(part === whole ? 0 : 3)}%`;
}

/** Opens carts and adds ITEMS_PER_CART items to each over HTTP, 8 at a time; returns each cart's version. */
async function createCarts(apiUrl: string, count: number): Promise<Map<string, number>> {
  const carts = new Map<string, number>();
  await mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (i) => {
    const { cartId } = await command(apiUrl, 'POST', '/carts');
    let version = 1;
    for (let item = 0; item < ITEMS_PER_CART; item++) ({ version } = await command(apiUrl, 'POST', `/carts/${cartId}/items`, { sku: `REBUILD-${(i + item) % 7}`, quantity: 1 + item }));
    carts.set(cartId, version);
  });
  return carts;
}

/** One command; a 503 (DynamoDB Local saturated) is retried with the same Idempotency-Key after Retry-After, as docs/api.md asks. */
async function command(apiUrl: string, method: string, path: string, body?: unknown): Promise<{ cartId: string; version: number }> {
  const headers: Record<string, string> = { 'idempotency-key': randomUUID(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(`${apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const json = (await response.json()) as { cartId: string; version: number };
    if (response.status < 300) return json;
    if (response.status !== 503 || attempt === 5) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
    await sleep(1_000 * Number(response.headers.get('retry-after') ?? 1));
  }
}

/** Waits until every cart's read model answers 200 at the version its last command returned (the CDC's lag). */
async function waitForReadModels(apiUrl: string, carts: Map<string, number>): Promise<void> {
  const deadline = Date.now() + 120_000;
  let pending = [...carts];
  while (pending.length > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.length} of ${carts.size} carts were not in the read models at their version after 120 s`);
    const behind = await mapLimit(pending, 8, async ([cartId, version]) => {
      const response = await fetch(`${apiUrl}/read/carts/${cartId}`);
      const body = (await response.json()) as { version?: number };
      return response.status === 200 && body.version === version ? undefined : ([cartId, version] as [string, number]);
    });
    pending = behind.filter((entry) => entry !== undefined);
    if (pending.length > 0) await sleep(500);
  }
}

/** Reads the carts' events back from the event store and writes them into the rebuilt day, as the archiver would. */
async function archiveRealCarts(ctx: BenchContext, archive: S3ArchiveObjects, prefix: string, carts: Map<string, number>): Promise<{ events: number; objects: number }> {
  const store = new DynamoDbEventStore(dynamoDbDocumentClient(), ctx.stack.resources.eventStoreTable);
  const streams = await mapLimit([...carts], 8, async ([cartId, version]) => {
    const { events } = await store.readStream(cartId);
    if (events.length !== version) throw new Error(`the event store holds ${events.length} events of cart ${cartId}, expected ${version}`);
    return events.map((event) => `${JSON.stringify(event)}\n`).join('');
  });
  const perObject = Math.ceil(EVENTS_PER_OBJECT / (1 + ITEMS_PER_CART));
  let objects = 0;
  for (let first = 0; first < streams.length; first += perObject) {
    await archive.write(`${prefix}00/rebuild-carts-${objects}.jsonl`, streams.slice(first, first + perObject).join(''));
    objects++;
  }
  return { events: [...carts.values()].reduce((sum, version) => sum + version, 0), objects };
}

interface RebuildRun {
  readonly execution: DescribeExecutionCommandOutput;
  readonly seconds: number;
  /** It outlived its time-out and was stopped (a stopped rebuild leaves the live generation serving). */
  readonly timedOut: boolean;
  /** Archive objects the Map Run had finished when last looked at. */
  readonly objectsDone?: number;
}

/** Starts the rebuild and waits for its end, logging its phase and Map Run progress; stops it if it outlives `timeoutSeconds`. */
async function runRebuild(ctx: BenchContext, sfn: SFNClient, timeoutSeconds: number): Promise<RebuildRun> {
  const started = performance.now();
  const { executionArn } = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: REPLAY_ARN,
      name: `bench-rebuild-${randomUUID()}`,
      input: JSON.stringify({ target: 'projections', rebuild: true, retireAfterSeconds: RETIRE_AFTER_SECONDS, from: `${DAY}T00:00:00Z`, to: `${DAY}T23:59:59Z` }),
    }),
  );
  const deadline = started + timeoutSeconds * 1000;
  let execution: DescribeExecutionCommandOutput;
  let lastProgress = started;
  let objectsDone: number | undefined;
  let timedOut = false;
  for (;;) {
    await sleep(250);
    execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') break;
    const late = performance.now() > deadline;
    if (late || performance.now() - lastProgress > 15_000) {
      lastProgress = performance.now();
      const { mapRuns } = await sfn.send(new ListMapRunsCommand({ executionArn }));
      const counts = mapRuns?.[0] ? (await sfn.send(new DescribeMapRunCommand({ mapRunArn: mapRuns[0].mapRunArn }))).itemCounts : undefined;
      objectsDone = counts === undefined ? objectsDone : (counts.succeeded ?? 0) + (counts.failed ?? 0);
      ctx.log(progressLine(counts, performance.now() - started, 'objects', await currentPhase(sfn, executionArn!)));
    }
    if (late && !timedOut) {
      timedOut = true;
      await sfn.send(new StopExecutionCommand({ executionArn, error: 'BenchTimeout', cause: `the rebuild bench gave it ${Math.round(timeoutSeconds)} s` }));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  ctx.log(`rebuild ${execution.status} in ${seconds.toFixed(1)} s`);
  return { execution, seconds, timedOut, ...(objectsDone === undefined ? {} : { objectsDone }) };
}

/** States that only route (no work of their own): left out of the phases. */
const INSTANT_STATE_TYPES = ['Choice', 'Succeed', 'Fail', 'Pass'];
/** The rebuild's phases as the issue and docs name them, by the replay state machine's state. */
const PHASE_NAMES: Record<string, string> = {
  PlanReplay: 'Plan',
  PrepareGeneration: 'Prepare',
  ReplayObjects: 'Replay',
  SummarizeReplay: 'Summarize',
  CatchUpGeneration: 'CatchUp',
  SwitchGeneration: 'Switch',
  WaitBeforeRetire: 'Wait (retireAfterSeconds)',
  RetireGeneration: 'Retire',
};

/** Each top-level state's time, from its entry to the entry of the next state that works (the last one: to the execution's end). */
interface Phase {
  readonly state: string;
  readonly seconds: number;
  /** When the state ran (epoch ms), once per entry. */
  readonly intervals: readonly (readonly [number, number])[];
}

async function phaseDurations(sfn: SFNClient, execution: DescribeExecutionCommandOutput): Promise<Phase[]> {
  const entered: { state: string; at: number }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution.executionArn, nextToken, maxResults: 1_000 }));
    for (const event of page.events ?? []) {
      const state = event.stateEnteredEventDetails?.name;
      if (state && event.type?.endsWith('StateEntered') && !INSTANT_STATE_TYPES.some((type) => event.type === `${type}StateEntered`)) entered.push({ state, at: event.timestamp!.getTime() });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  const end = execution.stopDate!.getTime();
  const phases = new Map<string, [number, number][]>();
  entered.forEach(({ state, at }, i) => phases.set(state, [...(phases.get(state) ?? []), [at, entered[i + 1]?.at ?? end]]));
  return [...phases].map(([state, intervals]) => ({ state, intervals, seconds: intervals.reduce((sum, [from, to]) => sum + (to - from) / 1000, 0) }));
}

interface ReadStats {
  readonly seconds: number;
  readonly reads: number;
  readonly ok: number;
  readonly backwards: number;
  readonly notFound: number;
  readonly serverErrors: number;
  readonly latenciesMs: number[];
  readonly failures: string[];
  /** When each read that was not 200 or went backwards was answered (epoch ms). */
  readonly missedAt: number[];
}

/** READERS clients, each polling the carts in turn and remembering, across periods, the highest version it was served per cart. */
class Readers {
  private readonly seen = Array.from({ length: READERS }, () => new Map<string, number>());

  constructor(
    private readonly apiUrl: string,
    private readonly cartIds: readonly string[],
  ) {}

  async pollFor(ms: number): Promise<ReadStats> {
    const polling = this.pollUntilStopped();
    await sleep(ms);
    return polling.stop();
  }

  pollUntilStopped(): { stop(): Promise<ReadStats> } {
    let running = true;
    const started = performance.now();
    const stats = { reads: 0, ok: 0, backwards: 0, notFound: 0, serverErrors: 0, latenciesMs: [] as number[], failures: [] as string[], missedAt: [] as number[] };
    const loops = this.seen.map(async (seen, reader) => {
      for (let n = reader; running; n++) {
        const cartId = this.cartIds[n % this.cartIds.length]!;
        const sent = performance.now();
        let status: number;
        let version = Number.NaN;
        try {
          const response = await fetch(`${this.apiUrl}/read/carts/${cartId}`);
          status = response.status;
          const body = (await response.json()) as { version?: number };
          version = Number(body.version);
        } catch (error) {
          status = 0;
          stats.failures.push(`reader ${reader}: ${cartId} failed: ${(error as Error).message}`);
        }
        stats.latenciesMs.push(performance.now() - sent);
        stats.reads++;
        if (status === 404) stats.notFound++;
        if (status >= 500) stats.serverErrors++;
        if (status !== 200) {
          stats.missedAt.push(Date.now());
          if (status !== 0) stats.failures.push(`reader ${reader}: ${cartId} answered ${status}`);
          continue;
        }
        stats.ok++;
        const highest = seen.get(cartId) ?? 0;
        if (!(version >= highest)) {
          stats.backwards++;
          stats.missedAt.push(Date.now());
          stats.failures.push(`reader ${reader}: ${cartId} went from version ${highest} to ${version}`);
        }
        seen.set(cartId, Math.max(highest, version || 0));
      }
    });
    return {
      async stop() {
        running = false;
        await Promise.all(loops);
        return { ...stats, seconds: (performance.now() - started) / 1000 };
      },
    };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
