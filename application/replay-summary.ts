import { z } from 'zod';
import type { ReplayPlan } from './replay';
import { BAD_LINE_REASONS, HARMLESS_BAD_LINE_REASONS, type BadLineReason } from './replay-lines';

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
  linesRead: z.number().optional(),
  eventsRead: z.number(),
  applied: z.number(),
  skippedDuplicates: z.number(),
  caughtUp: z.number().default(0),
  badLines: z.partialRecord(z.enum(BAD_LINE_REASONS), z.number()).default({}),
});

/** A step that failed outside the children (preparing a generation, the Map itself), as a Catch records it. */
export const StepFailure = z.object({ Error: z.string(), Cause: z.string().optional() });

export interface ReplaySummary {
  readonly target: ReplayPlan['target'];
  readonly projections: readonly string[];
  readonly rebuild: boolean;
  /** rebuild: the generation built (live after the switch, unless the rebuild failed). */
  readonly generation?: number;
  readonly dryRun: boolean;
  readonly from?: string;
  readonly to?: string;
  /** Archive objects of the window that were replayed. */
  readonly objects: number;
  /** Objects the listing returned under the prefix but outside the window (skipped by key, not read). */
  readonly objectsOutsideWindow: number;
  /** Non-blank lines of the objects replayed: eventsRead + badLines.total. */
  readonly linesRead: number;
  /** Replayable events read (each eventId once per object). */
  readonly eventsRead: number;
  /** Events applied, summed over the chosen projections (or events published, for target stream). */
  readonly applied: number;
  readonly skippedDuplicates: number;
  /** Events the projections read from the event store to close a gap (0 when the archive is complete). */
  readonly caughtUp: number;
  /** Lines set aside instead of replayed: per reason, and where (`s3://<archive bucket>/replay-rejects/<execution>/`). */
  readonly badLines: BadLinesSummary;
  readonly failedObjects: number;
  /** From the start of the execution to this summary: the plan and the archive replay. */
  readonly durationMs: number;
  /** eventsRead over durationMs. */
  readonly eventsPerSecond: number;
  /** Which part of the run durationMs and eventsPerSecond cover, in words (a rebuild goes on after the summary). */
  readonly rateCovers: string;
  /** Said plainly when nothing was replayed because the window holds no archive object. */
  readonly note?: string;
}

export interface BadLinesSummary {
  readonly total: number;
  /** Bad lines that are not harmless duplicates: what the thresholds count. */
  readonly notReplayable: number;
  readonly byReason: Partial<Record<BadLineReason, number>>;
  readonly setAsideUnder: string;
  readonly maxBadLines?: number;
  readonly maxBadLinesPercent?: number;
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
export function summarizeReplay(
  replay: ReplayPlan,
  children: readonly unknown[],
  stepFailure: unknown,
  nowMs: number,
  archiveBucket: string,
): SummaryResult {
  const totals = { objects: 0, objectsOutsideWindow: 0, linesRead: 0, eventsRead: 0, applied: 0, skippedDuplicates: 0, caughtUp: 0 };
  const byReason: Partial<Record<BadLineReason, number>> = {};
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
    const bad = Object.values(result.data.badLines).reduce((sum, n) => sum + (n ?? 0), 0);
    totals.objects += 1;
    totals.linesRead += result.data.linesRead ?? result.data.eventsRead + bad;
    totals.eventsRead += result.data.eventsRead;
    totals.applied += result.data.applied;
    totals.skippedDuplicates += result.data.skippedDuplicates;
    totals.caughtUp += result.data.caughtUp;
    for (const [reason, count] of Object.entries(result.data.badLines) as [BadLineReason, number][]) byReason[reason] = (byReason[reason] ?? 0) + count;
  }
  const badTotal = Object.values(byReason).reduce((sum, n) => sum + (n ?? 0), 0);
  const notReplayable = Object.entries(byReason)
    .filter(([reason]) => !HARMLESS_BAD_LINE_REASONS.includes(reason as BadLineReason))
    .reduce((sum, [, n]) => sum + (n ?? 0), 0);
  const durationMs = Math.max(0, nowMs - Date.parse(replay.startedAt));
  const summary: ReplaySummary = {
    target: replay.target,
    projections: replay.projections,
    rebuild: replay.rebuild,
    ...(replay.generation === undefined ? {} : { generation: replay.generation }),
    dryRun: replay.dryRun,
    ...(replay.from === undefined ? {} : { from: replay.from }),
    ...(replay.to === undefined ? {} : { to: replay.to }),
    ...totals,
    badLines: {
      total: badTotal,
      notReplayable,
      byReason,
      setAsideUnder: `s3://${archiveBucket}/${replay.rejectsPrefix}`,
      ...(replay.maxBadLines === undefined ? {} : { maxBadLines: replay.maxBadLines }),
      ...(replay.maxBadLinesPercent === undefined ? {} : { maxBadLinesPercent: replay.maxBadLinesPercent }),
    },
    failedObjects: failures.length,
    durationMs,
    eventsPerSecond: durationMs > 0 ? Math.round((totals.eventsRead * 1000) / durationMs) : 0,
    rateCovers: replay.rebuild
      ? 'the plan and the archive replay only; the catch-up, the switch, the wait before retiring and the retirement come after (the execution\'s whole duration is its start to its end)'
      : 'the whole replay, from its start to this summary',
    ...(totals.objects === 0 && failures.length === 0 ? { note: emptyWindowNote(replay, totals.objectsOutsideWindow) } : {}),
  };
  const step = StepFailure.safeParse(stepFailure);
  if (step.success) {
    return failed('ReplayFailed', `the replay stopped: ${step.data.Error}${step.data.Cause ? `: ${step.data.Cause}` : ''}`, summary, failures);
  }
  if (failures.length > 0) {
    return failed('ReplayFailed', `${failures.length} archive object(s) could not be replayed (tolerated: 0)`, summary, failures);
  }
  const exceeded = thresholdExceeded(replay, notReplayable, totals.linesRead);
  if (exceeded) return failed('TooManyBadLines', `${exceeded}; the lines are set aside under ${summary.badLines.setAsideUnder}`, summary, []);
  return { succeeded: true, summary };
}

/** Which threshold the lines that could not be replayed exceed, if any (duplicates lose nothing: not counted). */
function thresholdExceeded(replay: ReplayPlan, notReplayable: number, linesRead: number): string | undefined {
  if (replay.maxBadLines !== undefined && notReplayable > replay.maxBadLines) {
    return `${notReplayable} line(s) could not be replayed, more than maxBadLines ${replay.maxBadLines}`;
  }
  const percent = linesRead > 0 ? (notReplayable * 100) / linesRead : 0;
  if (replay.maxBadLinesPercent !== undefined && percent > replay.maxBadLinesPercent) {
    return `${notReplayable} of ${linesRead} line(s) (${percent.toFixed(2)}%) could not be replayed, more than maxBadLinesPercent ${replay.maxBadLinesPercent}`;
  }
  return undefined;
}

function emptyWindowNote(replay: ReplayPlan, outsideWindow: number): string {
  const window = replay.from === undefined && replay.to === undefined ? 'the archive' : `the window ${replay.from ?? '(start)'} .. ${replay.to ?? '(now)'}`;
  const skipped = outsideWindow > 0 ? ` (${outsideWindow} object(s) under ${replay.prefix} are outside it)` : '';
  return `nothing was replayed: ${window} holds no archive object${skipped}`;
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
