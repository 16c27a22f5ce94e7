/**
 * npm run simulate -- [--schedules N] [--from SEED] [--trace]
 * SIM_SEED=<seed> npm run simulate     replays one schedule exactly and prints it
 *
 * Runs seeded schedules of the whole pipeline (simulation/world.ts) and prints a progress bar, schedules per second
 * and the seeds of every violation, each with its schedule. Exits 1 when a schedule broke an invariant.
 */
import { report, runSchedule } from './run';

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? undefined : process.argv[index + 1];
}

function count(name: string, fallback: number): number {
  const raw = option(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`--${name} must be a non-negative integer, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const replay = process.env.SIM_SEED;
  if (replay !== undefined && replay !== '') {
    const seed = Number(replay);
    if (!Number.isSafeInteger(seed)) throw new Error(`SIM_SEED must be an integer, got "${replay}"`);
    const result = await runSchedule(seed, { trace: true });
    console.log(report(result));
    console.log(result.violations.length === 0 ? `seed ${seed}: every invariant holds` : `seed ${seed}: ${result.violations.length} violation(s)`);
    process.exitCode = result.violations.length === 0 ? 0 : 1;
    return;
  }
  const schedules = count('schedules', 10_000);
  const from = count('from', 1);
  const started = Date.now();
  const violating: number[] = [];
  let steps = 0;
  const bar = (done: number) => {
    const width = 30;
    const filled = Math.round((done / Math.max(1, schedules)) * width);
    const seconds = (Date.now() - started) / 1000;
    const rate = done / Math.max(seconds, 0.001);
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${schedules}  ${rate.toFixed(0)} schedules/s  ${violating.length} violating`;
  };
  for (let i = 0; i < schedules; i++) {
    const seed = from + i;
    const result = await runSchedule(seed);
    steps += result.steps;
    if (result.violations.length > 0) {
      violating.push(seed);
      if (process.stdout.isTTY) process.stdout.write('\n');
      // Run again with the schedule recorded: the same seed is the same schedule.
      console.log(report(violating.length <= 3 || process.argv.includes('--trace') ? await runSchedule(seed, { trace: true }) : result));
    }
    if (process.stdout.isTTY) process.stdout.write(`\r${bar(i + 1)}`);
    else if ((i + 1) % 1000 === 0) console.log(bar(i + 1));
  }
  const seconds = (Date.now() - started) / 1000;
  if (process.stdout.isTTY) process.stdout.write('\n');
  console.log(`${schedules} schedules (seeds ${from}..${from + schedules - 1}) in ${seconds.toFixed(1)} s: ${(schedules / seconds).toFixed(0)} schedules/s, ${(steps / Math.max(1, schedules)).toFixed(0)} steps per schedule`);
  console.log(violating.length === 0 ? 'no violation' : `${violating.length} violating seed(s): ${violating.join(' ')}`);
  process.exitCode = violating.length === 0 ? 0 : 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(2);
});
