import { z } from 'zod';
import { EventEnvelope } from '../domain/events';
import type { ApplyCounts, ArchiveObjects, EventRepublisher, ReplayProjections } from './replay-ports';
import { countByReason, readArchiveLines, rejectsBody, rejectsKeyOf, rejectsPrefixOf, type BadLineReason } from './replay-lines';
import { hourWindow, isKeyInWindow, listingPrefix, type HourWindow } from './replay-window';

/**
 * How long the old generation of a rebuild stays readable after the switch unless the input says otherwise, from
 * what the wait guards: an invocation that started before the switch (a consumer batch, a replay step) may still
 * write or read the old generation until it ends, which its timeout bounds, and a process re-reads the pointer only
 * once its cache (POINTER_CACHE_MS, application/generations.ts; passed in, so that the replay's and backfill's
 * handlers do not import the projections) expires. The deployment knows both: infra/ derives it from the template's
 * timeouts, the local stack from the local invocation budget (docs/replay-and-backfill.md).
 */
export function defaultRetireAfterSeconds(longestInvocationSeconds: number, pointerCacheMs: number): number {
  if (!Number.isInteger(longestInvocationSeconds) || longestInvocationSeconds < 0) throw new RangeError(`longestInvocationSeconds must be a whole number of seconds, not ${longestInvocationSeconds}`);
  return Math.min(MAX_RETIRE_AFTER_SECONDS, longestInvocationSeconds + Math.ceil(pointerCacheMs / 1000));
}
/** The replay state machine's own timeout is a day. */
const MAX_RETIRE_AFTER_SECONDS = 43_200;

/** The replay input, exactly as an operator passes it to StartExecution. Unknown fields are refused. */
export const ReplayInput = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    target: z.enum(['projections', 'stream']),
    projections: z.array(z.string().min(1)).min(1).optional(),
    rebuild: z.boolean().optional(),
    /** rebuild: how long the old generation stays readable after the switch before its rows are deleted. */
    retireAfterSeconds: z.number().int().min(0).max(MAX_RETIRE_AFTER_SECONDS).optional(),
    dryRun: z.boolean().optional(),
    /** Fail the replay (TooManyBadLines) when more lines than this could not be replayed (duplicates do not count). */
    maxBadLines: z.number().int().min(0).optional(),
    /** The same, as a percentage of the lines read. */
    maxBadLinesPercent: z.number().min(0).max(100).optional(),
  })
  .refine((input) => !input.from || !input.to || Date.parse(input.from) <= Date.parse(input.to), {
    message: '"from" must not be after "to"',
    path: ['from'],
  })
  .refine((input) => input.target === 'projections' || (!input.rebuild && !input.projections), {
    message: '"rebuild" and "projections" apply to target "projections" only',
    path: ['target'],
  })
  .refine((input) => input.retireAfterSeconds === undefined || input.rebuild === true, {
    message: '"retireAfterSeconds" applies to a rebuild only',
    path: ['retireAfterSeconds'],
  });
export type ReplayInput = z.infer<typeof ReplayInput>;

/** What every step after the plan works from (it is small: it travels in each child's input). */
export interface ReplayPlan {
  readonly target: 'projections' | 'stream';
  readonly projections: readonly string[];
  readonly rebuild: boolean;
  /** rebuild: seconds between the switch and the retirement of the old generation. */
  readonly retireAfterSeconds: number;
  /** rebuild: the generation being built, set by the PrepareGeneration step; the objects are replayed into it. */
  readonly generation?: number;
  readonly dryRun: boolean;
  readonly from?: string;
  readonly to?: string;
  readonly maxBadLines?: number;
  readonly maxBadLinesPercent?: number;
  /** Where the children set bad lines aside: `replay-rejects/<execution>/`. */
  readonly rejectsPrefix: string;
  readonly window: HourWindow;
  readonly prefix: string;
  readonly executionName: string;
  readonly startedAt: string;
}

export type PlanResult =
  | { readonly valid: true; readonly replay: ReplayPlan }
  | { readonly valid: false; readonly error: 'InvalidReplayInput'; readonly cause: string };

/** Validates the input: a bad one is answered, not thrown, so the state machine fails with this exact cause. */
export function planReplay(
  request: { input: unknown; executionName: string; startedAt: string },
  knownProjections: readonly string[],
  defaults: { readonly retireAfterSeconds: number },
): PlanResult {
  const parsed = ReplayInput.safeParse(request.input);
  if (!parsed.success) return invalid(describeIssues(parsed.error));
  const input = parsed.data;
  const unknown = (input.projections ?? []).filter((name) => !knownProjections.includes(name));
  if (unknown.length > 0) {
    return invalid(`projections: unknown ${unknown.map((n) => `"${n}"`).join(', ')}; known: ${knownProjections.join(', ')}`);
  }
  const window = hourWindow(input.from, input.to);
  return {
    valid: true,
    replay: {
      target: input.target,
      projections: input.target === 'projections' ? [...new Set(input.projections ?? knownProjections)] : [],
      rebuild: input.rebuild ?? false,
      retireAfterSeconds: input.retireAfterSeconds ?? defaults.retireAfterSeconds,
      dryRun: input.dryRun ?? false,
      ...(input.from === undefined ? {} : { from: input.from }),
      ...(input.to === undefined ? {} : { to: input.to }),
      ...(input.maxBadLines === undefined ? {} : { maxBadLines: input.maxBadLines }),
      ...(input.maxBadLinesPercent === undefined ? {} : { maxBadLinesPercent: input.maxBadLinesPercent }),
      rejectsPrefix: rejectsPrefixOf(request.executionName),
      window,
      prefix: listingPrefix(window),
      executionName: request.executionName,
      startedAt: request.startedAt,
    },
  };
}

function invalid(cause: string): PlanResult {
  return { valid: false, error: 'InvalidReplayInput', cause: `invalid replay input: ${cause}. Expected {"from"?, "to"? (ISO-8601), "target": "projections"|"stream", "projections"?: [names], "rebuild"?: boolean, "retireAfterSeconds"?: integer 0-43200 (rebuild only), "dryRun"?: boolean, "maxBadLines"?: integer >= 0, "maxBadLinesPercent"?: 0-100}` };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`).join('; ');
}

/** What one child reports for one archive object. */
export interface ObjectResult {
  readonly key: string;
  readonly inWindow: boolean;
  /** Non-blank lines of the object. */
  readonly linesRead: number;
  /** Replayable events (lines that are not bad). */
  readonly eventsRead: number;
  readonly applied: number;
  readonly skippedDuplicates: number;
  readonly caughtUp: number;
  /** Lines set aside, per reason (see application/replay-lines.ts). */
  readonly badLines: Partial<Record<BadLineReason, number>>;
}

/** The archive object vanished between the listing and the read (e.g. a lifecycle rule): not retried. */
export class ArchiveObjectMissing extends Error {
  override readonly name = 'ArchiveObjectMissing';
}

export interface ReplayObjectDeps {
  readonly archive: ArchiveObjects;
  readonly projections: ReplayProjections;
  readonly stream: EventRepublisher;
}

/**
 * Replays one archive object. Its lines go through readArchiveLines: bad lines (not JSON, not an envelope, an
 * event the CDC would refuse, an eventId seen earlier in the object) are set aside under the execution's rejects
 * prefix with their reason and line number, and never fail the object; the events are put in (cart, version)
 * order and handed to the target as one batch. A dry run goes through every step but the apply, so it reports
 * the same counts and sets aside the same lines. Applying is idempotent, so a retried child, an object listed
 * twice or an event archived twice all end in the same state.
 */
export async function replayObject(deps: ReplayObjectDeps, request: { key: string; replay: ReplayPlan }): Promise<ObjectResult> {
  const { key, replay } = request;
  if (!isKeyInWindow(key, replay.window)) {
    return { key, inWindow: false, linesRead: 0, eventsRead: 0, applied: 0, skippedDuplicates: 0, caughtUp: 0, badLines: {} };
  }
  const text = await deps.archive.read(key);
  if (text === undefined) throw new ArchiveObjectMissing(`archive object ${key} was listed but no longer exists`);
  const { events, badLines, linesRead } = readArchiveLines(key, text);
  // Written before the apply: a retried child rewrites the same object with the same lines.
  if (badLines.length > 0) await deps.archive.write(rejectsKeyOf(replay.executionName, key), rejectsBody(badLines));
  const ordered = [...events].sort(byCartAndVersion);
  let counts: ApplyCounts = { applied: 0, skipped: 0, caughtUp: 0 };
  if (!replay.dryRun && ordered.length > 0) {
    if (replay.target === 'projections') counts = await deps.projections.apply(replay.projections, ordered, replay.generation);
    else counts = { applied: await deps.stream.publish(ordered.map(markReplayed)), skipped: 0, caughtUp: 0 };
  }
  return {
    key,
    inWindow: true,
    linesRead,
    eventsRead: events.length,
    applied: counts.applied,
    skippedDuplicates: counts.skipped,
    caughtUp: counts.caughtUp,
    badLines: countByReason(badLines),
  };
}

export function byCartAndVersion(a: EventEnvelope, b: EventEnvelope): number {
  return a.aggregateId < b.aggregateId ? -1 : a.aggregateId > b.aggregateId ? 1 : a.version - b.version;
}

/** Side-effecting consumers skip what carries this flag; projections apply it as any other delivery. */
export function markReplayed(event: EventEnvelope): EventEnvelope {
  return { ...event, metadata: { ...event.metadata, replayed: true } };
}
