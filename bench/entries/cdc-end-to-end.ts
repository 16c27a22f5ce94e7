import { randomUUID } from 'node:crypto';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDbClient, dynamoDbDocumentClient, HTTP_HANDLER_DYNAMODB_BUDGET, kinesisClient } from '../../adapters/aws-clients';
import { DynamoDbEventStore, toItem } from '../../adapters/dynamodb/event-store';
import { executeCartCommand, RecentCarts } from '../../application/cart-commands';
import { EVENT_STORE_KEY } from '../../adapters/dynamodb/event-store-table';
import { cdcPipeSettings } from '../../lambdas/cdc-enrichment/pipe-settings';
import { endpointOf } from '../../local/config';
import type { BenchContext, BenchEntry } from '../harness';
import { cartEnvelopes } from '../support/cart-events';
import { median, percentile } from '../support/measure';
import { cpuDuring, stackProcesses } from '../support/process-cpu';
import { dropTables, eventStoreTableLike, freshTable } from '../support/tables';

/** Items per cart in the HTTP load (and in the raw baselines): open a cart, add this many items, open the next. */
const ITEMS_PER_CART = 20;

/**
 * The local stack end to end: cart commands over HTTP while the Pipe runner carries their events to Kinesis.
 * Reports the command rate the whole flow sustains, and the time from the API's response to the event's record
 * in Kinesis (its ApproximateArrivalTimestamp), against the HTTP command latency measured in the same run.
 *
 * Its floor, measured in the same run on the same DynamoDB Local with the same concurrency: raw conditional
 * PutItems of event-store items into a table of the entry's own (what one command must write at least), and the
 * Query that loads a cart (what a command reads when it does not know the cart). The HTTP rate against the raw
 * Put rate is the share of DynamoDB Local's capacity the product turns into commands.
 */
export const cdcEndToEnd: BenchEntry = {
  name: 'cdc-end-to-end',
  // It measures the API, the Pipe runner and the consumers: after other entries, they were several times slower
  // (docs/benchmarks.md, "A fresh stack for the end-to-end entry").
  freshStack: true,
  title: 'CDC end to end: commands/s through HTTP -> Pipe -> Kinesis, against raw conditional PutItem/s, and API response -> Kinesis latency',
  async run(ctx) {
    const apiUrl = endpointOf(ctx.stack.ports.api);
    const writers = ctx.scale(8, 2);
    const durationMs = ctx.scale(20_000, 3_000);
    const singleWriterMs = ctx.scale(8_000, 1_000);
    const rawMs = ctx.scale(5_000, 500);

    // The same client setup as the cart-api handler's (budget, HTTP handler), in this process.
    const client = dynamoDbClient(HTTP_HANDLER_DYNAMODB_BUDGET);
    const documents = dynamoDbDocumentClient(client);
    const rawTable = await freshTable(client, eventStoreTableLike(ctx.stack, 'bench-e2e-raw-puts'));
    ctx.cleanUp(() => dropTables(client, [rawTable]));

    // What earlier entries (or anything else) left for the Pipe and the consumers is not this entry's work.
    const quiet = await waitForQuietPipeline(apiUrl, ctx.scale(90_000, 20_000));
    ctx.log(`backlog at the start: ${quiet.backlogAtStart} records; waited ${(quiet.waitedMs / 1000).toFixed(1)} s for the readers to catch up`);

    // Warm-up: connections, JIT and the handler's first calls count for nobody.
    await httpLoad(apiUrl, 2, ctx.scale(1_000, 200));
    await rawPuts(documents, rawTable, 2, ctx.scale(1_000, 200));

    ctx.log('1 writer: raw conditional PutItem, then HTTP commands');
    // Raw phases before and after each HTTP phase (half each): drift in the machine's load hits both sides alike.
    const raw1Before = await rawPuts(documents, rawTable, 1, rawMs / 2);
    const query1 = await rawQueries(documents, rawTable, rawMs);
    const useCase1 = await useCaseCommands(new DynamoDbEventStore(documents, rawTable), rawMs);
    const http1 = await httpLoad(apiUrl, 1, singleWriterMs);
    const keyed1 = await httpLoad(apiUrl, 1, rawMs, true);
    const raw1 = combined(raw1Before, await rawPuts(documents, rawTable, 1, rawMs / 2));

    ctx.log(`${writers} writers: raw conditional PutItem`);
    const processes = stackProcesses(ctx.stack);
    const rawBeforeCpu = await cpuDuring(processes, () => rawPuts(documents, rawTable, writers, rawMs / 2));
    const rawBefore = rawBeforeCpu.result;

    ctx.log(`${writers} writers: HTTP commands through to Kinesis`);
    const tail = await startKinesisTail(ctx.stack.resources.eventsStream);
    const started = Date.now();
    // CPU per process from the first command until the last event is in Kinesis: what the whole flow costs.
    const { result: http, cpuMs: httpCpu } = await cpuDuring(processes, async () => {
      const load = await httpLoad(apiUrl, writers, durationMs);
      ctx.log(`${load.acknowledged.size} commands acknowledged in ${load.seconds.toFixed(1)} s; waiting for Kinesis`);
      const drainDeadline = Date.now() + 120_000;
      while ([...load.acknowledged.keys()].some((key) => !tail.arrivals.has(key))) {
        if (Date.now() > drainDeadline) throw new Error(`only ${[...load.acknowledged.keys()].filter((k) => tail.arrivals.has(k)).length} of ${load.acknowledged.size} events reached Kinesis within 120 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return load;
    });
    const { acknowledged } = http;
    await tail.stop();
    ctx.log(`${writers} writers: raw conditional PutItem again`);
    const rawAfterCpu = await cpuDuring(processes, () => rawPuts(documents, rawTable, writers, rawMs / 2));
    const raw = combined(rawBefore, rawAfterCpu.result);
    const rawCpu = new Map([...rawBeforeCpu.cpuMs].map(([name, ms]) => [name, ms + (rawAfterCpu.cpuMs.get(name) ?? 0)]));

    const latencies = [...acknowledged].map(([key, respondedAt]) => Math.max(0, tail.arrivals.get(key)! - respondedAt));
    const lastArrival = Math.max(...[...acknowledged.keys()].map((key) => tail.arrivals.get(key)!));
    const endToEndSeconds = (lastArrival - started) / 1000;
    const httpRate = http.rate;
    const flowRate = acknowledged.size / endToEndSeconds;
    const p = (values: number[], q: number) => percentile(values, q);
    const window = cdcPipeSettings('event-per-item').source.MaximumBatchingWindowInSeconds * 1000;
    const ms = (values: number[]) => `${Math.round(median(values))} / ${Math.round(p(values, 0.99))}`;
    const msPrecise = (values: number[]) => `${median(values).toFixed(1)} / ${p(values, 0.99).toFixed(1)}`;

    ctx.table({
      title: `End to end on the local stack (${writers} concurrent HTTP writers, ${Math.round(durationMs / 1000)} s; 1 writer, ${Math.round(singleWriterMs / 1000)} s)`,
      columns: ['measure', 'value'],
      rows: [
        ['commands acknowledged', acknowledged.size],
        [`commands/s over HTTP, ${writers} writers`, Math.round(httpRate)],
        [`raw conditional PutItem/s, ${writers} writers`, Math.round(raw.rate)],
        [`HTTP ÷ raw, ${writers} writers`, +(httpRate / raw.rate).toFixed(2)],
        ['commands/s through HTTP -> Kinesis (until the last record arrived)', Math.round(flowRate)],
        [`HTTP command latency p50 / p99 (ms), ${writers} writers`, ms(http.latencies)],
        [`raw PutItem latency p50 / p99 (ms), ${writers} writers`, msPrecise(raw.latencies)],
        ['commands/s over HTTP, 1 writer', Math.round(http1.rate)],
        ['raw conditional PutItem/s, 1 writer', Math.round(raw1.rate)],
        ['HTTP ÷ raw, 1 writer', +(http1.rate / raw1.rate).toFixed(2)],
        ['HTTP command latency p50 / p99 (ms), 1 writer', msPrecise(http1.latencies)],
        ['raw PutItem latency p50 / p99 (ms), 1 writer', msPrecise(raw1.latencies)],
        [`raw Query of a cart (${ITEMS_PER_CART / 2} events on average) p50 / p99 (ms), 1 writer`, msPrecise(query1.latencies)],
        ['HTTP commands with an Idempotency-Key: commands/s, p50 / p99 (ms), 1 writer', `${Math.round(keyed1.rate)}, ${msPrecise(keyed1.latencies)}`],
        ['the same commands without HTTP (executeCartCommand in this process, same store adapter) p50 / p99 (ms), 1 writer', msPrecise(useCase1.latencies)],
        ['commands/s without HTTP, 1 writer', Math.round(useCase1.rate)],
        ['API response -> Kinesis p50 (ms)', Math.round(median(latencies))],
        ['API response -> Kinesis p99 (ms)', Math.round(p(latencies, 0.99))],
        ['Pipe batching window (ms)', window],
        ['backlog of the Pipe and consumers when the entry started (records) / waited for it (s)', `${quiet.backlogAtStart} / ${(quiet.waitedMs / 1000).toFixed(1)}`],
      ],
      notes: [
        `HTTP load: each writer opens a cart (POST /carts) and adds ${ITEMS_PER_CART} items to it (POST /carts/{id}/items), then opens the next; no Idempotency-Key`,
        'raw PutItem/s: half measured before the HTTP phase, half after (same writers), combined',
        'raw = one conditional PutItem (attribute_not_exists on the sort key) of an event-store item per call, into a table shaped like the event store (keys, stream), each writer appending to a cart of its own; same DynamoDB Local, same client settings as the handler, same concurrency',
        'DynamoDB calls per command: without Idempotency-Key, 1 conditional PutItem when this API instance wrote the cart last (RecentCarts), else 1 Query + 1 PutItem; with one, Powertools\' idempotency record adds a conditional PutItem before and an UpdateItem after, and the cart is always read (Query) to find an earlier attempt of the same command',
        `where a command's time goes, 1 writer (p50): raw PutItem ${median(raw1.latencies).toFixed(1)} ms; the use case without HTTP (domain, store adapter, document client) ${median(useCase1.latencies).toFixed(1)} ms; over HTTP ${median(http1.latencies).toFixed(1)} ms (+ the local API server, the Lambda handler and two loopback hops); with an Idempotency-Key ${median(keyed1.latencies).toFixed(1)} ms (+ Query, Powertools' PutItem and UpdateItem); a Query of a cart, which RecentCarts saves, ${median(query1.latencies).toFixed(1)} ms`,
        'during the HTTP phases the Pipe runner, the consumers and the archiver run as well (the product carries every event to Kinesis); during the raw phases they are idle',
        'latency = the record\'s ApproximateArrivalTimestamp in kinesalite minus the moment the API response was read (same clock)',
        'the Pipe waits up to its batching window to fill a batch; polling adds up to 250 ms; both runtimes (Pipe runner, API) share the 2 cores',
      ],
    });
    if (httpCpu.size > 0) {
      const perCall = (cpu: Map<string, number>, name: string, calls: number) => +((cpu.get(name) ?? 0) / calls).toFixed(2);
      const total = (cpu: Map<string, number>) => [...cpu.values()].reduce((sum, ms) => sum + ms, 0);
      ctx.table({
        title: `CPU per command by process, ${writers} writers (ms; /proc, user + system)`,
        columns: ['process', 'HTTP command, through to Kinesis', 'raw PutItem'],
        rows: [
          ...[...httpCpu.keys()].map((name) => [name, perCall(httpCpu, name, acknowledged.size), rawCpu.has(name) ? perCall(rawCpu, name, raw.latencies.length) : null]),
          ['all of them', +(total(httpCpu) / acknowledged.size).toFixed(2), +(total(rawCpu) / raw.latencies.length).toFixed(2)],
        ],
        notes: [
          'HTTP: from the first command until the last event arrived in Kinesis, divided by the commands acknowledged; raw: both raw phases, divided by the PutItems',
          `the API hop (api + HTTP clients) costs ${(((httpCpu.get('api') ?? 0) + (httpCpu.get('bench (HTTP clients)') ?? 0)) / acknowledged.size).toFixed(2)} ms per command, the CDC flow (kinesis, pipe, consumers, archiver) ${(['kinesis', 'pipe', 'consumers', 'archiver'].reduce((sum, name) => sum + (httpCpu.get(name) ?? 0), 0) / acknowledged.size).toFixed(2)} ms, DynamoDB Local ${((httpCpu.get('DynamoDB Local (Java)') ?? 0) / acknowledged.size).toFixed(2)} ms (the command's Put, the Pipe's stream reads, the projections' writes)`,
          '2 cores = 2,000 ms of CPU per second at most, shared with whatever else the machine runs: a command that costs twice the CPU of a PutItem cannot go faster than half its rate once the cores are busy',
        ],
      });
    }
    ratioToRaw(ctx, 1, http1.rate, raw1.rate);
    ratioToRaw(ctx, writers, httpRate, raw.rate);
    ctx.ratio({ name: 'commands/s, HTTP -> Kinesis vs HTTP alone (same run)', subject: 'through to Kinesis', subjectValue: flowRate, baseline: 'acknowledged over HTTP', baselineValue: httpRate, unit: 'commands/s', higherIsBetter: true });
    ctx.ratio({ name: 'p50 latency, API response -> Kinesis vs one HTTP command', subject: 'response -> Kinesis', subjectValue: median(latencies), baseline: 'HTTP command', baselineValue: median(http.latencies), unit: 'ms', higherIsBetter: false });
    ctx.ratio({ name: 'p99 latency, API response -> Kinesis vs one HTTP command', subject: 'response -> Kinesis', subjectValue: p(latencies, 0.99), baseline: 'HTTP command', baselineValue: p(http.latencies, 0.99), unit: 'ms', higherIsBetter: false });
  },
};

function ratioToRaw(ctx: BenchContext, writers: number, httpRate: number, rawRate: number): void {
  ctx.ratio({
    name: `commands/s over HTTP vs raw conditional PutItem/s, ${writers} writer${writers > 1 ? 's' : ''} (goal ≥ 0.5)`,
    subject: 'HTTP commands',
    subjectValue: httpRate,
    baseline: 'raw conditional PutItem',
    baselineValue: rawRate,
    unit: 'calls/s',
    higherIsBetter: true,
  });
}

interface Load {
  readonly rate: number;
  readonly seconds: number;
  readonly latencies: number[];
}

function combined(a: Load, b: Load): Load {
  const seconds = a.seconds + b.seconds;
  const latencies = [...a.latencies, ...b.latencies];
  return { seconds, latencies, rate: latencies.length / seconds };
}

interface ReaderLag {
  readonly name: string;
  readonly recordsBehind: number;
}

/**
 * Waits until the Pipe and every Kinesis reader have read everything (the operations console's pipeline status,
 * GET /console/api/pipeline): a backlog left by earlier work would share the cores with the measurement.
 */
async function waitForQuietPipeline(apiUrl: string, timeoutMs: number): Promise<{ backlogAtStart: number; waitedMs: number }> {
  const started = Date.now();
  let backlogAtStart: number | undefined;
  for (;;) {
    const response = await fetch(`${apiUrl}/console/api/pipeline`);
    if (!response.ok) throw new Error(`GET /console/api/pipeline answered ${response.status}: ${await response.text()}`);
    const { lag } = (await response.json()) as { lag: ReaderLag[] };
    const behind = lag.reduce((sum, reader) => sum + reader.recordsBehind, 0);
    backlogAtStart ??= behind;
    if (behind === 0) return { backlogAtStart, waitedMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) {
      throw new Error(`the Pipe and consumers still had ${lag.filter((r) => r.recordsBehind > 0).map((r) => `${r.name}: ${r.recordsBehind}`).join(', ')} records to read after ${timeoutMs / 1000} s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * `writers` HTTP clients until the deadline, each opening a cart and adding items to it. Notes when each command
 * (cart id / version) was acknowledged.
 */
async function httpLoad(apiUrl: string, writers: number, durationMs: number, keyed = false): Promise<Load & { acknowledged: Map<string, number> }> {
  const acknowledged = new Map<string, number>();
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        const opened = await command(apiUrl, 'POST', '/carts', undefined, keyed);
        latencies.push(performance.now() - sent);
        acknowledged.set(`${opened.cartId}/${opened.version}`, Date.now());
        for (let item = 0; item < ITEMS_PER_CART && performance.now() < deadline; item++) {
          const t = performance.now();
          const added = await command(apiUrl, 'POST', `/carts/${opened.cartId}/items`, { sku: `SKU-${item % 7}`, quantity: 1 }, keyed);
          latencies.push(performance.now() - t);
          acknowledged.set(`${added.cartId}/${added.version}`, Date.now());
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { acknowledged, latencies, seconds, rate: latencies.length / seconds };
}

/** What a command writes at least: one conditional Put of the next event item, each writer on a cart of its own. */
async function rawPuts(documents: DynamoDBDocumentClient, table: string, writers: number, durationMs: number): Promise<Load> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      let cartId = randomUUID();
      let version = 0;
      while (performance.now() < deadline) {
        if (version > ITEMS_PER_CART) [cartId, version] = [randomUUID(), 0];
        const [event] = cartEnvelopes(cartId, version, 1);
        const t = performance.now();
        await documents.send(
          new PutCommand({
            TableName: table,
            Item: toItem(event!),
            ConditionExpression: 'attribute_not_exists(#version)',
            ExpressionAttributeNames: { '#version': EVENT_STORE_KEY.sortKey },
          }),
        );
        latencies.push(performance.now() - t);
        version++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { latencies, seconds, rate: latencies.length / seconds };
}

/**
 * The HTTP load's commands without HTTP: the use case as the handler runs it (RecentCarts included), on the raw
 * table, in this process.
 */
async function useCaseCommands(store: DynamoDbEventStore, durationMs: number): Promise<Load> {
  const recentCarts = new RecentCarts();
  const latencies: number[] = [];
  const started = performance.now();
  while (performance.now() - started < durationMs) {
    const cartId = randomUUID();
    let t = performance.now();
    await executeCartCommand(store, cartId, { type: 'OpenCart' }, { recentCarts });
    latencies.push(performance.now() - t);
    for (let item = 0; item < ITEMS_PER_CART && performance.now() - started < durationMs; item++) {
      t = performance.now();
      await executeCartCommand(store, cartId, { type: 'AddItem', sku: `SKU-${item % 7}`, quantity: 1 }, { recentCarts });
      latencies.push(performance.now() - t);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  return { latencies, seconds, rate: latencies.length / seconds };
}

/** What loading a cart costs: the event store's consistent Query of one cart, on the carts rawPuts wrote. */
async function rawQueries(documents: DynamoDBDocumentClient, table: string, durationMs: number): Promise<Load> {
  const cartIds: string[] = [];
  for (let i = 0; i < 10; i++) {
    const cartId = randomUUID();
    for (const event of cartEnvelopes(cartId, 0, 1 + (i % ITEMS_PER_CART))) {
      await documents.send(new PutCommand({ TableName: table, Item: toItem(event) }));
    }
    cartIds.push(cartId);
  }
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; performance.now() - started < durationMs; i++) {
    const t = performance.now();
    await documents.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#id = :id AND #version > :after',
        ExpressionAttributeNames: { '#id': EVENT_STORE_KEY.partitionKey, '#version': EVENT_STORE_KEY.sortKey },
        ExpressionAttributeValues: { ':id': cartIds[i % cartIds.length]!, ':after': 0 },
        ConsistentRead: true,
      }),
    );
    latencies.push(performance.now() - t);
  }
  const seconds = (performance.now() - started) / 1000;
  return { latencies, seconds, rate: latencies.length / seconds };
}

async function command(apiUrl: string, method: string, path: string, body?: unknown, keyed = false): Promise<{ cartId: string; version: number }> {
  const headers: Record<string, string> = {
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(keyed ? { 'idempotency-key': randomUUID() } : {}),
  };
  const response = await fetch(`${apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await response.json()) as { cartId: string; version: number };
  if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

/** Reads every shard from LATEST and notes when each cart version arrived (kinesalite's arrival timestamp, ms). */
async function startKinesisTail(streamName: string) {
  const kinesis = kinesisClient();
  const arrivals = new Map<string, number>();
  const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  let running = true;
  const readers = (Shards ?? []).map(async (shard) => {
    let { ShardIterator: iterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: 'LATEST' }));
    while (running && iterator) {
      const result = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of result.Records ?? []) {
        const envelope = JSON.parse(Buffer.from(record.Data!).toString('utf8')) as { aggregateId: string; version: number };
        const key = `${envelope.aggregateId}/${envelope.version}`;
        if (!arrivals.has(key)) arrivals.set(key, record.ApproximateArrivalTimestamp!.getTime());
      }
      iterator = result.NextShardIterator;
      if ((result.Records ?? []).length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  return {
    arrivals,
    stop: async () => {
      running = false;
      await Promise.all(readers);
    },
  };
}
