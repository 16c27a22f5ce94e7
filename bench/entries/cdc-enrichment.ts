import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DeadLetter, DeadLetterQueue } from '../../application/dead-letters';
import type { StoreLayout } from '../../domain/cdc';
import { createEnrichment } from '../../lambdas/cdc-enrichment/enrich';
import { cdcPipeSettings } from '../../lambdas/cdc-enrichment/pipe-settings';
import { cartHistory, seedCartHistory, StreamRecordFactory, type Commit, type StreamRecordJson } from '../../test/support/cdc-stream-records';
import { CHART_IDS, type BenchEntry } from '../harness';
import { median } from '../support/measure';

/**
 * What the Pipe's enrichment costs on one core, in this process: splitting realistic batches of stream records
 * into envelopes, against the floor of that work (unmarshalling the same records with the SDK and nothing more),
 * and how the cost of one record grows with the cart's history in each store layout.
 */
export const cdcEnrichment: BenchEntry = {
  name: 'cdc-enrichment',
  title: 'CDC enrichment: records/s against the unmarshall floor, and per-record cost vs cart history',
  async run(ctx) {
    const roundMs = ctx.scale(1_500, 200);
    const rounds = ctx.scale(3, 1);

    // Realistic batches: a full Pipe batch of each layout, many carts, short histories.
    const factory = new StreamRecordFactory();
    const ours = factory.eventPerItem(interleaved('event-per-item', 100, 5));
    const seed = factory.aggregateItem(interleaved('aggregate-item', 10, 20)).slice(-cdcPipeSettings('aggregate-item').source.BatchSize);
    const rows = [];
    for (const [layout, batch] of [['event-per-item', ours], ['aggregate-item', seed]] as [StoreLayout, StreamRecordJson[]][]) {
      const enrich = enrichment(layout);
      const events = (await enrich(batch)).length;
      const subject = await perSecond(() => enrich(batch), roundMs, rounds);
      const floor = await perSecond(async () => unmarshallOnly(batch), roundMs, rounds);
      rows.push([layout, batch.length, events, Math.round(subject * batch.length), Math.round(subject * events), Math.round(floor * batch.length), +(subject / floor).toFixed(2)]);
      ctx.ratio({
        name: `enrichment records/s, ${layout}, batch of ${batch.length}`,
        subject: 'enrichment',
        subjectValue: subject * batch.length,
        baseline: 'unmarshall floor',
        baselineValue: floor * batch.length,
        unit: 'records/s',
        higherIsBetter: true,
      });
      ctx.log(`${layout}: ${Math.round(subject * batch.length)} records/s, floor ${Math.round(floor * batch.length)}`);
    }
    ctx.table({
      title: 'Enrichment throughput on one core (a full Pipe batch per call)',
      columns: ['layout', 'records/batch', 'events/batch', 'records/s', 'events/s', 'floor records/s', 'enrichment ÷ floor'],
      rows,
      notes: [
        'floor = unmarshalling the same records (Keys, NewImage, OldImage) with @aws-sdk/util-dynamodb and nothing more',
        'enrichment = validate the record, unmarshall, diff, validate each event (envelope + cart schemas), size it for the response limits',
      ],
    });

    // Per-record cost as the cart's history grows.
    const histories = ctx.scale([10, 100, 1_000, 10_000], [10, 1_000]);
    const costRows = [];
    const points: Record<string, { x: number; y: number }[]> = { ours: [], oursFloor: [], seed: [], seedFloor: [] };
    // Every point is measured once per round, the rounds interleaved, so that drift on a shared machine hits
    // all points alike instead of making a flat line look like a slope.
    const cases = histories.map((history) => {
      const perItem = recordsAtHistory('event-per-item', history, 100);
      const oneItem = recordsAtHistory('aggregate-item', history, history >= 1_000 ? 5 : 50);
      const enrichOurs = enrichment('event-per-item');
      const enrichSeed = enrichment('aggregate-item');
      return {
        history,
        work: {
          ours: { records: perItem.length, run: () => enrichOurs(perItem) },
          oursFloor: { records: perItem.length, run: async () => unmarshallOnly(perItem) },
          seed: { records: oneItem.length, run: () => enrichSeed(oneItem) },
          seedFloor: { records: oneItem.length, run: async () => unmarshallOnly(oneItem) },
        },
      };
    });
    const samples = new Map<string, number[]>();
    for (let round = 0; round < rounds; round++) {
      for (const { history, work } of cases) {
        for (const [name, { records, run }] of Object.entries(work)) {
          const microseconds = 1e6 / ((await perSecond(run, roundMs, 1)) * records);
          samples.set(`${name}@${history}`, [...(samples.get(`${name}@${history}`) ?? []), microseconds]);
        }
      }
    }
    for (const { history } of cases) {
      const us = (name: string) => median(samples.get(`${name}@${history}`)!);
      costRows.push([history.toLocaleString('en-US'), round(us('ours')), round(us('oursFloor')), round(us('seed')), round(us('seedFloor'))]);
      for (const name of Object.keys(points)) points[name]!.push({ x: history, y: us(name) });
      ctx.log(`history ${history}: ours ${round(us('ours'))} µs/record, seed ${round(us('seed'))} µs/record`);
    }
    ctx.table({
      title: 'Enrichment cost of ONE stream record that appends one event, by the cart history it belongs to',
      columns: ['history (events)', 'ours: µs/record', 'ours floor: µs', 'seed layout: µs/record', 'seed floor: µs'],
      rows: costRows,
      notes: [
        'ours: the INSERT record holds only the new event, whatever the history',
        'seed layout: the MODIFY record holds the whole history twice (old and new image); a real seed item stops at 400 KB (a few thousand events), the larger points are synthetic',
      ],
    });
    const first = histories[0]!;
    const last = histories.at(-1)!;
    const at = (series: { x: number; y: number }[], x: number) => series.find((p) => p.x === x)!.y;
    ctx.ratio({ name: `µs per record, history ${last.toLocaleString('en-US')} vs ${first}`, subject: `ours at ${last.toLocaleString('en-US')}`, subjectValue: at(points.ours!, last), baseline: `ours at ${first}`, baselineValue: at(points.ours!, first), unit: 'µs', higherIsBetter: false });
    ctx.ratio({ name: `µs per record, history ${last.toLocaleString('en-US')} vs ${first} (seed layout)`, subject: `seed layout at ${last.toLocaleString('en-US')}`, subjectValue: at(points.seed!, last), baseline: `seed layout at ${first}`, baselineValue: at(points.seed!, first), unit: 'µs', higherIsBetter: false });
    const chart = { chart: CHART_IDS.enrichmentCostVsHistory, chartTitle: 'Enrichment cost per stream record vs cart history', xLabel: 'events in the cart', yLabel: 'µs per record', logX: true, logY: true };
    ctx.series({ ...chart, name: 'ours: one item per event', points: points.ours! });
    ctx.series({ ...chart, name: 'ours: unmarshall floor', points: points.oursFloor! });
    ctx.series({ ...chart, name: 'seed: one item per cart', points: points.seed!, note: 'beyond ~3,000 events the seed item exceeds 400 KB: synthetic' });
    ctx.series({ ...chart, name: 'seed: unmarshall floor', points: points.seedFloor! });
  },
};

class CountingDeadLetters implements DeadLetterQueue {
  count = 0;
  async send(letters: readonly DeadLetter[]): Promise<void> {
    this.count += letters.length;
  }
}

function enrichment(layout: StoreLayout) {
  const deadLetters = new CountingDeadLetters();
  const enrich = createEnrichment({ layout, deadLetters });
  return async (records: unknown[]) => {
    const envelopes = await enrich(records);
    if (deadLetters.count > 0) throw new Error('the benchmark records must all be valid');
    return envelopes;
  };
}

/** The floor: the SDK's unmarshall of every image in the batch, nothing else. */
function unmarshallOnly(records: readonly StreamRecordJson[]): number {
  let attributes = 0;
  for (const { dynamodb } of records) {
    attributes += Object.keys(unmarshall(dynamodb.Keys as Record<string, AttributeValue>)).length;
    if (dynamodb.NewImage) attributes += Object.keys(unmarshall(dynamodb.NewImage)).length;
    if (dynamodb.OldImage) attributes += Object.keys(unmarshall(dynamodb.OldImage)).length;
  }
  return attributes;
}

/** `carts` carts, `events` events each, committed one event per write, the carts' writes interleaved. */
function interleaved(layout: StoreLayout, carts: number, events: number): Commit[] {
  const histories = Array.from({ length: carts }, (_, i) => historyOf(layout)(`bench-cart-${i}`, events));
  const commits: Commit[] = [];
  for (let version = 0; version < events; version++) {
    for (const history of histories) commits.push({ cartId: history[0]!.aggregateId, events: [history[version]!] });
  }
  return commits;
}

/** `count` records that each append one event to a cart that already holds about `history` events. */
function recordsAtHistory(layout: StoreLayout, history: number, count: number): StreamRecordJson[] {
  const factory = new StreamRecordFactory();
  const events = historyOf(layout)(`history-${layout}-${history}`, history + count - 1);
  if (layout === 'event-per-item') return factory.eventPerItem(events.slice(history - 1).map((event) => ({ cartId: event.aggregateId, events: [event] })));
  const commits: Commit[] = [{ cartId: events[0]!.aggregateId, events: events.slice(0, history - 1) }];
  for (const event of events.slice(history - 1)) commits.push({ cartId: event.aggregateId, events: [event] });
  return factory.aggregateItem(commits).slice(1);
}

/** The seed's carts hold only what the seed could write (no ItemRemoved), in the seed's payload shape. */
function historyOf(layout: StoreLayout): (cartId: string, length: number) => ReturnType<typeof cartHistory> {
  return layout === 'aggregate-item' ? (cartId, length) => seedCartHistory(cartId, length) : cartHistory;
}

/** Calls per second of `work`, as the median of `rounds` rounds of `roundMs` each (after a warm-up). */
async function perSecond(work: () => Promise<unknown>, roundMs: number, rounds: number): Promise<number> {
  for (let i = 0; i < 3; i++) await work();
  const results: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let calls = 0;
    const started = performance.now();
    while (performance.now() - started < roundMs) {
      await work();
      calls++;
    }
    results.push(calls / ((performance.now() - started) / 1000));
  }
  return median(results);
}

function round(value: number): number {
  return value >= 100 ? Math.round(value) : +value.toFixed(1);
}
