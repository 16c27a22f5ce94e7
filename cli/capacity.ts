import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ASSUMED_COSTS, capacityPlan, measuredCostsFrom, type CapacityPlan } from '../infra/capacity';

const USAGE = `The capacity plan of the deployed design at a load (docs/scaling.md explains every figure).

  npm run capacity -- --commands-per-second N [--events-per-command E] [--hot-cart-share S] [--json]

  --commands-per-second N   commands the API accepts per second (required, > 0)
  --events-per-command E    events each command appends (default 1)
  --hot-cart-share S        share of all commands that go to ONE cart, 0-1 (default 0)
  --json                    the whole plan as JSON

Per-record costs come from bench/results.json (npm run bench) when it has them, else from the cost model's
stated assumptions; each figure says which.`;

const RESULTS_FILE = join(__dirname, '..', 'bench', 'results.json');

export function parseCapacityArgs(argv: readonly string[]): { commandsPerSecond: number; eventsPerCommand: number; hotCartShare: number; json: boolean } {
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    if (at < 0) return undefined;
    const raw = argv[at + 1];
    if (raw === undefined || raw.startsWith('--')) throw new Error(`${flag} needs a value`);
    return raw;
  };
  const known = new Set(['--commands-per-second', '--events-per-command', '--hot-cart-share', '--json']);
  const unknown = argv.filter((arg, i) => arg.startsWith('--') && !known.has(arg) && !(i > 0 && known.has(argv[i - 1]!)));
  if (unknown.length > 0) throw new Error(`unknown option ${unknown[0]}`);
  const number = (flag: string, fallback?: number) => {
    const raw = value(flag);
    if (raw === undefined) {
      if (fallback === undefined) throw new Error(`${flag} is required`);
      return fallback;
    }
    const parsed = Number(raw);
    if (!Number.isFinite(parsed)) throw new Error(`${flag} must be a number, got "${raw}"`);
    return parsed;
  };
  return { commandsPerSecond: number('--commands-per-second'), eventsPerCommand: number('--events-per-command', 1), hotCartShare: number('--hot-cart-share', 0), json: argv.includes('--json') };
}

export function renderPlan(plan: CapacityPlan): string {
  const out: string[] = [];
  const { commandsPerSecond, eventsPerCommand, hotCartShare } = plan.input;
  out.push(`Capacity plan at ${commandsPerSecond} commands/s, ${eventsPerCommand} event(s) per command, hot cart share ${hotCartShare}`, '');
  for (const component of plan.components) {
    out.push(`${component.component}: ${Object.entries(component.units).map(([k, v]) => `${k} ${Number.isFinite(v) ? v : 'unbounded'}`).join(', ')}`);
    for (const note of component.notes) out.push(`  - ${note}`);
  }
  out.push('', 'Limits, most used first (utilisation, headroom):');
  for (const limit of plan.limits) {
    out.push(`  ${(limit.utilisation * 100).toFixed(1).padStart(7)}%  ${limit.component}: ${limit.limit} ${round(limit.used)} of ${Number.isFinite(limit.available) ? limit.available : 'unlimited'} ${limit.unit} [${limit.kind}]`);
  }
  const first = plan.firstBinding;
  out.push('', `First limit to bind: ${first.component}, ${first.limit} at ${(first.utilisation * 100).toFixed(1)}%${first.bindsNow ? ' (BINDS at this load)' : ''}`);
  out.push('', 'CDK context to set (cdk.json or -c key=value):', ...Object.entries(plan.context).map(([key, value]) => `  ${key}=${value}`));
  out.push('', `Monthly cost: $${plan.monthlyCostUsd.total} ($${plan.monthlyCostUsd.perMillionCommands} per million commands + $${plan.monthlyCostUsd.fixed} fixed): ${plan.monthlyCostUsd.note}`);
  return out.join('\n');
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function main(argv: string[]): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let args: ReturnType<typeof parseCapacityArgs>;
  try {
    args = parseCapacityArgs(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const costs = existsSync(RESULTS_FILE) ? measuredCostsFrom(JSON.parse(readFileSync(RESULTS_FILE, 'utf8'))) : ASSUMED_COSTS;
  let plan: CapacityPlan;
  try {
    plan = capacityPlan({ ...args, costs });
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  console.log(args.json ? JSON.stringify(plan, null, 2) : renderPlan(plan));
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
