import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASSUMED_COSTS, capacityPlan, measuredCostsFrom } from '../infra/capacity';
import type { BenchSeries } from './harness';
import { lineChartSvg } from './svg-chart';

/**
 * Draws docs/images/scaling-cost.svg and docs/images/scaling-utilisation.svg from the capacity plan (infra/capacity.ts)
 * at loads from 100 to 100,000 commands/s, and prints the plan table of docs/scaling.md.
 * Run: node --import tsx bench/capacity-chart.ts
 */
const ROOT = join(__dirname, '..');
const LOADS = [100, 300, 1_000, 3_000, 10_000, 30_000, 100_000];
const TABLE_LOADS = [100, 1_000, 10_000, 100_000];

const resultsFile = join(ROOT, 'bench', 'results.json');
const costs = existsSync(resultsFile) ? measuredCostsFrom(JSON.parse(readFileSync(resultsFile, 'utf8'))) : ASSUMED_COSTS;
const plans = LOADS.map((commandsPerSecond) => capacityPlan({ commandsPerSecond, costs }));

const cost: BenchSeries = {
  chart: 'scaling-cost',
  chartTitle: 'Monthly cost against load (1 event per command)',
  xLabel: 'commands/s',
  yLabel: 'USD per month',
  logX: true,
  logY: true,
  name: 'monthly cost',
  points: plans.map((plan) => ({ x: plan.input.commandsPerSecond, y: plan.monthlyCostUsd.total })),
};
const watched: [string, (component: string, limit: string) => boolean][] = [
  ['API Gateway account rps', (c) => c === 'API Gateway'],
  ['Lambda account concurrency', (c) => c === 'Lambda'],
  ['event store table WRU', (c, l) => c === 'DynamoDB event store' && l.includes('write')],
  ['Kinesis records/s per shard', (c, l) => c.startsWith('Kinesis') && (l.startsWith('records/s') || l === 'records/s at creation')],
  ['event log lane throughput', (c) => c === 'consumer eventLog'],
];
const utilisation: BenchSeries[] = watched.map(([name, match]) => ({
  chart: 'scaling-utilisation',
  chartTitle: 'Utilisation of the limits that bind first',
  xLabel: 'commands/s',
  yLabel: 'utilisation (1 = the limit)',
  logX: true,
  name,
  points: plans.map((plan) => ({ x: plan.input.commandsPerSecond, y: Math.max(0, ...plan.limits.filter((l) => match(l.component, l.limit)).map((l) => l.utilisation)) })),
}));
writeFileSync(join(ROOT, 'docs', 'images', 'scaling-cost.svg'), lineChartSvg([cost]));
writeFileSync(join(ROOT, 'docs', 'images', 'scaling-utilisation.svg'), lineChartSvg(utilisation));

const rows = TABLE_LOADS.map((load) => capacityPlan({ commandsPerSecond: load, costs }));
const cell = (plan: (typeof rows)[number], component: string, key: string) => plan.components.find((c) => c.component === component)?.units[key];
console.log('| commands/s | Kinesis shards (min / set) | stream shards | consumer factors (eventLog / projections) | Lambda concurrency | first limit to bind | its utilisation | monthly cost |');
console.log('|---|---|---|---|---|---|---|---|');
for (const plan of rows) {
  const first = plan.firstBinding;
  console.log(
    `| ${plan.input.commandsPerSecond.toLocaleString('en-US')} | ${cell(plan, 'Kinesis events stream', 'minimumShards')} / ${plan.context.kinesisShardCount || 'on-demand'} | ≥ ${cell(plan, 'DynamoDB Streams + Pipe + enrichment Lambda', 'streamShardsAtLeast')} | ${plan.context.eventLogParallelizationFactor} / ${plan.context.projectionsParallelizationFactor} | ${cell(plan, 'Lambda (account)', 'concurrency')} | ${first.component}: ${first.limit} | ${(first.utilisation * 100).toFixed(0)}%${first.bindsNow ? ' (binds)' : ''} | $${Math.round(plan.monthlyCostUsd.total).toLocaleString('en-US')} |`,
  );
}
