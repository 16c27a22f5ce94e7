import { z } from 'zod';
import type { ReplayPlan } from './replay';

/** A child that failed after its retries, as the state machine records it (RecordObjectFailure). */
export const ChildFailure = z.object({
  failed: z.literal(true),
  key: z.string().optional(),
  segment: z.number().optional(),
  error: z.string(),
  cause: z.string().optional(),
});
export type ChildFailure = z.infer<typeof ChildFailure>;

const ObjectResult = z.object({
  key: z.string(),
  inWindow: z.boolean(),
  eventsRead: z.number(),
  applied: z.number(),
  skippedDuplicates: z.number(),
  caughtUp: z.number().default(0),
});

/** A step that failed outside the children (the reset, the Map itself), as a Catch records it. */
export const StepFailure = z.object({ Error: z.string(), Cause: z.string().optional() });

export interface ReplaySummary {
  readonly target: ReplayPlan['target'];
  readonly projections: readonly string[];
  readonly rebuild: boolean;
  readonly dryRun: boolean;
  readonly from?: string;
  readonly to?: string;
  /** Archive objects of the window that were replayed. */
  readonly objects: number;
  /** Objects the listing returned under the prefix but outside the window (skipped by key, not read). */
  readonly objectsOutsideWindow: number;
  readonly eventsRead: number;
  /** Events applied, summed over the chosen projections (or events published, for target stream). */
  readonly applied: number;
  readonly skippedDuplicates: number;
  /** Events the projections read from the event store to close a gap (0 when the archive is complete). */
  readonly caughtUp: number;
  readonly failedObjects: number;
  readonly durationMs: number;
  readonly eventsPerSecond: number;
}

export type SummaryResult =
  | { readonly succeeded: true; readonly summary: ReplaySummary }
  | { readonly succeeded: false; readonly error: string; readonly cause: string; readonly summary: ReplaySummary };

/** Most failures a report lists one by one (a Fail cause is capped at 32,768 characters). */
const LISTED_FAILURES = 20;

/**
 * The replay's tolerated failures are zero objects: an object that could not be replayed leaves its events out
 * of the projections (or the stream), so the execution fails and its cause is the failure report. Every other
 * object was still replayed, and a second run without rebuild only adds what is missing (replay is idempotent).
 */
export function summarizeReplay(replay: ReplayPlan, children: readonly unknown[], stepFailure: unknown, nowMs: number): SummaryResult {
  const totals = { objects: 0, objectsOutsideWindow: 0, eventsRead: 0, applied: 0, skippedDuplicates: 0, caughtUp: 0 };
  const failures: ChildFailure[] = [];
  for (const child of children) {
    const failure = ChildFailure.safeParse(child);
    if (failure.success) {
      failures.push(failure.data);
      continue;
    }
    const result = ObjectResult.safeParse(child);
    if (!result.success) {
      failures.push({ failed: true, error: 'UnreadableChildResult', cause: JSON.stringify(child).slice(0, 500) });
      continue;
    }
    if (!result.data.inWindow) {
      totals.objectsOutsideWindow += 1;
      continue;
    }
    totals.objects += 1;
    totals.eventsRead += result.data.eventsRead;
    totals.applied += result.data.applied;
    totals.skippedDuplicates += result.data.skippedDuplicates;
    totals.caughtUp += result.data.caughtUp;
  }
  const durationMs = Math.max(0, nowMs - Date.parse(replay.startedAt));
  const summary: ReplaySummary = {
    target: replay.target,
    projections: replay.projections,
    rebuild: replay.rebuild,
    dryRun: replay.dryRun,
    ...(replay.from === undefined ? {} : { from: replay.from }),
    ...(replay.to === undefined ? {} : { to: replay.to }),
    ...totals,
    failedObjects: failures.length,
    durationMs,
    eventsPerSecond: durationMs > 0 ? Math.round((totals.eventsRead * 1000) / durationMs) : 0,
  };
  const step = StepFailure.safeParse(stepFailure);
  if (step.success) {
    return failed('ReplayFailed', `the replay stopped: ${step.data.Error}${step.data.Cause ? `: ${step.data.Cause}` : ''}`, summary, failures);
  }
  if (failures.length > 0) {
    return failed('ReplayFailed', `${failures.length} archive object(s) could not be replayed (tolerated: 0)`, summary, failures);
  }
  return { succeeded: true, summary };
}

export function failed<S>(
  error: string,
  message: string,
  summary: S,
  failures: readonly ChildFailure[],
): { readonly succeeded: false; readonly error: string; readonly cause: string; readonly summary: S } {
  const report = {
    message,
    summary,
    failures: failures.slice(0, LISTED_FAILURES).map(({ key, segment, error: name, cause }) => ({ ...(key === undefined ? {} : { key }), ...(segment === undefined ? {} : { segment }), error: name, cause: truncate(cause) })),
    ...(failures.length > LISTED_FAILURES ? { moreFailures: failures.length - LISTED_FAILURES } : {}),
  };
  return { succeeded: false, error, cause: JSON.stringify(report), summary };
}

function truncate(text: string | undefined): string | undefined {
  return text === undefined || text.length <= 600 ? text : `${text.slice(0, 600)}…`;
}
