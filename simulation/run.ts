import type { EventEnvelope } from '../domain/events';
import { checkInvariants } from './invariants';
import { Random } from './random';
import { Scheduler, type FaultPlan } from './scheduler';
import { CONSUMER_TIMEOUT_MS, World } from './world';

/** A schedule that takes more steps than this never reached quiescence: that is a finding too (a livelock). */
export const MAX_STEPS = 30_000;

export interface ScheduleResult {
  readonly seed: number;
  readonly violations: string[];
  readonly steps: number;
  readonly virtualMs: number;
  readonly faults: FaultPlan;
  /** The schedule, readably (only when asked for: a violating seed is run again with it). */
  readonly trace?: string[];
}

/** The fault plan of a seed: some schedules calm, most with every fault at a rate of their own. */
export function faultPlanOf(seed: number): FaultPlan {
  const random = new Random(seed ^ 0x5eed);
  return { rate: random.pick([0, 0.02, 0.05, 0.1, 0.2]), stallMaxMs: Math.round(CONSUMER_TIMEOUT_MS * 1.2) };
}

/** Runs one schedule to quiescence and checks every invariant. The same seed gives the same schedule. */
export async function runSchedule(seed: number, options: { trace?: boolean } = {}): Promise<ScheduleResult> {
  const faults = faultPlanOf(seed);
  const scheduler = new Scheduler(seed, faults, options);
  const world = new World(scheduler);
  world.start();
  const outcome = await scheduler.run(MAX_STEPS);
  const violations: string[] = [];
  if (outcome === 'step-limit') violations.push(`no quiescence after ${MAX_STEPS} steps`);
  if (outcome === 'stuck') violations.push('actors blocked with no step left to take (a deadlock)');
  for (const { actor, error } of scheduler.actorErrors) violations.push(`actor ${actor} failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  if (outcome === 'quiet') {
    const stored = new Map<string, EventEnvelope[]>();
    for (const cartId of world.cartIds) stored.set(cartId, (await world.store.readStream(cartId)).events);
    violations.push(...(await checkInvariants(world, stored)));
  }
  return { seed, violations, steps: scheduler.steps, virtualMs: scheduler.now, faults, ...(scheduler.trace ? { trace: scheduler.trace } : {}) };
}

/** A violation as the simulation prints it: the seed to replay, what broke, and the schedule that broke it. */
export function report(result: ScheduleResult): string {
  return [
    `seed ${result.seed} (replay: SIM_SEED=${result.seed} npm run simulate) — fault rate ${result.faults.rate}, ${result.steps} steps, ${result.virtualMs} virtual ms`,
    ...result.violations.map((v) => `  VIOLATION ${v}`),
    ...(result.trace ? ['  schedule:', ...result.trace.map((line) => `    ${line}`)] : []),
  ].join('\n');
}
