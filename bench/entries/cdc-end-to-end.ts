import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../../adapters/aws-clients';
import { cdcPipeSettings } from '../../lambdas/cdc-enrichment/pipe-settings';
import { endpointOf } from '../../local/config';
import type { BenchEntry } from '../harness';
import { median } from '../support/measure';

/**
 * The local stack end to end: cart commands over HTTP while the Pipe runner carries their events to Kinesis.
 * Reports the command rate the whole flow sustains, and the time from the API's response to the event's record
 * in Kinesis (its ApproximateArrivalTimestamp), against the HTTP command latency measured in the same run.
 */
export const cdcEndToEnd: BenchEntry = {
  name: 'cdc-end-to-end',
  title: 'CDC end to end: commands/s through HTTP -> Pipe -> Kinesis, and API response -> Kinesis latency',
  async run(ctx) {
    const apiUrl = endpointOf(ctx.stack.ports.api);
    const writers = ctx.scale(8, 2);
    const durationMs = ctx.scale(20_000, 3_000);
    const tail = await startKinesisTail(ctx.stack.resources.eventsStream);

    const acknowledged = new Map<string, number>();
    const commandMs: number[] = [];
    const started = Date.now();
    const deadline = started + durationMs;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (Date.now() < deadline) {
          const sent = performance.now();
          const opened = await command(apiUrl, 'POST', '/carts');
          commandMs.push(performance.now() - sent);
          acknowledged.set(`${opened.cartId}/${opened.version}`, Date.now());
          for (let item = 0; item < 20 && Date.now() < deadline; item++) {
            const t = performance.now();
            const added = await command(apiUrl, 'POST', `/carts/${opened.cartId}/items`, { sku: `SKU-${item % 7}`, quantity: 1 });
            commandMs.push(performance.now() - t);
            acknowledged.set(`${added.cartId}/${added.version}`, Date.now());
          }
        }
      }),
    );
    const loadSeconds = (Date.now() - started) / 1000;
    ctx.log(`${acknowledged.size} commands acknowledged in ${loadSeconds.toFixed(1)} s; waiting for Kinesis`);
    const drainDeadline = Date.now() + 120_000;
    while ([...acknowledged.keys()].some((key) => !tail.arrivals.has(key))) {
      if (Date.now() > drainDeadline) throw new Error(`only ${[...acknowledged.keys()].filter((k) => tail.arrivals.has(k)).length} of ${acknowledged.size} events reached Kinesis within 120 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await tail.stop();

    const latencies = [...acknowledged].map(([key, respondedAt]) => Math.max(0, tail.arrivals.get(key)! - respondedAt));
    const lastArrival = Math.max(...[...acknowledged.keys()].map((key) => tail.arrivals.get(key)!));
    const endToEndSeconds = (lastArrival - started) / 1000;
    const httpRate = acknowledged.size / loadSeconds;
    const flowRate = acknowledged.size / endToEndSeconds;
    const p = (values: number[], q: number) => percentile(values, q);
    const window = cdcPipeSettings('event-per-item').source.MaximumBatchingWindowInSeconds * 1000;

    ctx.table({
      title: `End to end on the local stack (${writers} concurrent HTTP writers, ${Math.round(durationMs / 1000)} s)`,
      columns: ['measure', 'value'],
      rows: [
        ['commands acknowledged', acknowledged.size],
        ['commands/s over HTTP', Math.round(httpRate)],
        ['commands/s through HTTP -> Kinesis (until the last record arrived)', Math.round(flowRate)],
        ['HTTP command latency p50 / p99 (ms)', `${Math.round(median(commandMs))} / ${Math.round(p(commandMs, 0.99))}`],
        ['API response -> Kinesis p50 (ms)', Math.round(median(latencies))],
        ['API response -> Kinesis p99 (ms)', Math.round(p(latencies, 0.99))],
        ['Pipe batching window (ms)', window],
      ],
      notes: [
        'latency = the record\'s ApproximateArrivalTimestamp in kinesalite minus the moment the API response was read (same clock)',
        'the Pipe waits up to its batching window to fill a batch; polling adds up to 250 ms; both runtimes (Pipe runner, API) share the 2 cores',
      ],
    });
    ctx.ratio({ name: 'commands/s, HTTP -> Kinesis vs HTTP alone (same run)', subject: 'through to Kinesis', subjectValue: flowRate, baseline: 'acknowledged over HTTP', baselineValue: httpRate, unit: 'commands/s', higherIsBetter: true });
    ctx.ratio({ name: 'p50 latency, API response -> Kinesis vs one HTTP command', subject: 'response -> Kinesis', subjectValue: median(latencies), baseline: 'HTTP command', baselineValue: median(commandMs), unit: 'ms', higherIsBetter: false });
    ctx.ratio({ name: 'p99 latency, API response -> Kinesis vs one HTTP command', subject: 'response -> Kinesis', subjectValue: p(latencies, 0.99), baseline: 'HTTP command', baselineValue: p(commandMs, 0.99), unit: 'ms', higherIsBetter: false });
  },
};

async function command(apiUrl: string, method: string, path: string, body?: unknown): Promise<{ cartId: string; version: number }> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
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

function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
