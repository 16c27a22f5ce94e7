import { z } from 'zod';
import { checkPublishableEvent } from '../domain/cdc';
import type { EventEnvelope } from '../domain/events';
import { describeIssues } from './replay';
import { readArchiveLines } from './replay-lines';
import type { ArchiveObjects } from './replay-ports';
import { failed, ChildFailure, StepFailure } from './replay-summary';
import { ARCHIVE_EVENTS_PREFIX, archiveObjectKey } from './replay-window';

export const BackfillInput = z.strictObject({
  /** Parallel Scan segments (DynamoDB TotalSegments). */
  segments: z.number().int().min(1).max(64).optional(),
  /** Count what is missing, write nothing (the index is still brought up to date: it only describes the archive). */
  dryRun: z.boolean().optional(),
});

export const DEFAULT_SEGMENTS = 4;

/**
 * Which eventIds the archive holds, per archive object (key -> ETag + eventIds). Kept in the archive bucket
 * beside the events (outside `events/`, so a replay never lists it). Keeping it per object makes it cheap to
 * keep current: a run reads only objects it has not indexed yet (new key, or changed ETag), and drops the ids
 * of objects that are gone, so a lost archive file is backfilled again.
 */
export const ArchiveIndex = z.object({
  version: z.literal(1),
  objects: z.record(z.string(), z.object({ etag: z.string(), eventIds: z.array(z.string()) })),
});
export type ArchiveIndex = z.infer<typeof ArchiveIndex>;

export const ARCHIVE_INDEX_KEY = 'backfill/archive-index.json';
const INDEX_READ_CONCURRENCY = 16;

export interface BackfillPlan {
  readonly totalSegments: number;
  readonly segments: readonly number[];
  readonly dryRun: boolean;
  readonly runId: string;
  readonly startedAt: string;
  readonly indexKey: string;
  readonly archivedEvents: number;
  readonly archiveObjects: number;
  readonly objectsIndexed: number;
}

export type BackfillPlanResult =
  | { readonly valid: true; readonly backfill: BackfillPlan }
  | { readonly valid: false; readonly error: 'InvalidBackfillInput'; readonly cause: string };

export async function planBackfill(
  archive: ArchiveObjects,
  request: { input: unknown; executionName: string; startedAt: string },
): Promise<BackfillPlanResult> {
  const parsed = BackfillInput.safeParse(request.input ?? {});
  if (!parsed.success) {
    return {
      valid: false,
      error: 'InvalidBackfillInput',
      cause: `invalid backfill input: ${describeIssues(parsed.error)}. Expected {"segments"?: integer 1-64, "dryRun"?: boolean}`,
    };
  }
  const { index, objectsIndexed } = await updateArchiveIndex(archive);
  const totalSegments = parsed.data.segments ?? DEFAULT_SEGMENTS;
  return {
    valid: true,
    backfill: {
      totalSegments,
      segments: Array.from({ length: totalSegments }, (_, i) => i),
      dryRun: parsed.data.dryRun ?? false,
      runId: request.executionName,
      startedAt: request.startedAt,
      indexKey: ARCHIVE_INDEX_KEY,
      archivedEvents: archivedEventIds(index).size,
      archiveObjects: Object.keys(index.objects).length,
      objectsIndexed,
    },
  };
}

/** Brings the index in line with the archive's listing, reading only objects not indexed at their ETag. */
export async function updateArchiveIndex(archive: ArchiveObjects): Promise<{ index: ArchiveIndex; objectsIndexed: number }> {
  const previous = await loadArchiveIndex(archive);
  const objects: ArchiveIndex['objects'] = {};
  const toRead: { key: string; etag: string }[] = [];
  for await (const object of archive.list(ARCHIVE_EVENTS_PREFIX)) {
    const known = previous?.objects[object.key];
    if (known && known.etag === object.etag) objects[object.key] = known;
    else toRead.push({ key: object.key, etag: object.etag });
  }
  await forEachLimited(toRead, INDEX_READ_CONCURRENCY, async ({ key, etag }) => {
    const text = await archive.read(key);
    if (text !== undefined) objects[key] = { etag, eventIds: eventIdsOf(text, key) };
  });
  const index: ArchiveIndex = { version: 1, objects };
  const changed = toRead.length > 0 || Object.keys(previous?.objects ?? {}).length !== Object.keys(objects).length;
  if (changed || !previous) await archive.write(ARCHIVE_INDEX_KEY, JSON.stringify(index));
  return { index, objectsIndexed: toRead.length };
}

export async function loadArchiveIndex(archive: ArchiveObjects, key = ARCHIVE_INDEX_KEY): Promise<ArchiveIndex | undefined> {
  const text = await archive.read(key);
  if (text === undefined) return undefined;
  try {
    return ArchiveIndex.parse(JSON.parse(text));
  } catch {
    return undefined; // a damaged index is rebuilt from the archive, which is the truth it describes
  }
}

export function archivedEventIds(index: ArchiveIndex): Set<string> {
  const ids = new Set<string>();
  for (const object of Object.values(index.objects)) for (const id of object.eventIds) ids.add(id);
  return ids;
}

/**
 * The eventIds an archive object holds for a replay: those of its replayable lines (readArchiveLines, the
 * replay's own reading). A junk line that merely carries an eventId does not make the archive hold that event.
 */
export function eventIdsOf(text: string, key = ''): string[] {
  return readArchiveLines(key, text).events.map((event) => event.eventId);
}

/** A page of the event store, read by a parallel Scan segment. */
export interface EventStoreScanPage {
  readonly events: EventEnvelope[];
  readonly cursor?: Record<string, unknown>;
}

export interface EventStoreScanner {
  scan(segment: number, totalSegments: number, cursor: Record<string, unknown> | undefined): Promise<EventStoreScanPage>;
}

export interface SegmentTotals {
  readonly scanned: number;
  readonly missing: number;
  readonly written: number;
  readonly objectsWritten: number;
  /** Events of the store the CDC refuses (checkPublishableEvent): never archived, reported. */
  readonly refused: number;
  /** The first of them (at most FIRST_REFUSED_LISTED), to find them in the store and the dead letters. */
  readonly firstRefused: readonly RefusedEvent[];
}

export interface RefusedEvent {
  readonly eventId: string;
  readonly aggregateId: string;
  /** null when the stored version is not a number. */
  readonly version: number | null;
  readonly reason: string;
}

export const FIRST_REFUSED_LISTED = 20;
const NO_TOTALS: SegmentTotals = { scanned: 0, missing: 0, written: 0, objectsWritten: 0, refused: 0, firstRefused: [] };

export interface SegmentSlice {
  readonly segment: number;
  readonly backfill: BackfillPlan;
  readonly cursor?: Record<string, unknown> | null;
  readonly part?: number;
  readonly totals?: SegmentTotals;
}

export interface SegmentSliceResult extends Required<Omit<SegmentSlice, 'cursor'>> {
  readonly cursor: Record<string, unknown> | null;
  readonly done: boolean;
}

/** Most events one backfill object holds (Firehose objects are of that order too). */
export const MAX_EVENTS_PER_OBJECT = 10_000;

/**
 * One slice of one Scan segment: pages until the segment ends, the slice holds MAX_EVENTS_PER_OBJECT missing
 * events, or `shouldStop` says the Lambda's time is running out; writes what it found missing as one archive
 * object and hands back the cursor. An event the CDC would refuse (checkPublishableEvent, the enrichment's own
 * check) is never archived: it is counted and the first ones are named. The object's key is fixed by the slice's
 * input (run, its start hour, segment, part), so a retried slice overwrites its own object instead of adding a
 * second copy, even when the retry runs in a later hour.
 */
export async function backfillSegmentSlice(
  deps: { scanner: EventStoreScanner; archive: ArchiveObjects; archived: Set<string>; shouldStop: () => boolean },
  slice: SegmentSlice,
): Promise<SegmentSliceResult> {
  const { segment, backfill } = slice;
  const part = slice.part ?? 0;
  let cursor = slice.cursor ?? undefined;
  let scanned = 0;
  const missing: EventEnvelope[] = [];
  const refused: RefusedEvent[] = [];
  let done = false;
  do {
    const page = await deps.scanner.scan(segment, backfill.totalSegments, cursor);
    scanned += page.events.length;
    for (const item of page.events) {
      const check = checkPublishableEvent(item);
      if (!check.ok) refused.push({ eventId: String(item.eventId), aggregateId: String(item.aggregateId), version: Number.isFinite(Number(item.version)) ? Number(item.version) : null, reason: `${check.refusal}: ${check.reason}` });
      else if (!deps.archived.has(check.envelope.eventId)) missing.push(check.envelope);
    }
    cursor = page.cursor;
    done = cursor === undefined;
  } while (!done && missing.length < MAX_EVENTS_PER_OBJECT && !deps.shouldStop());

  let written = 0;
  if (missing.length > 0 && !backfill.dryRun) {
    const key = archiveObjectKey(Date.parse(backfill.startedAt), `${backfillObjectStem(backfill.runId)}-s${segment}-p${part}.jsonl`);
    await deps.archive.write(key, missing.map((event) => `${JSON.stringify(event)}\n`).join(''));
    written = missing.length;
  }
  const before = { ...NO_TOTALS, ...slice.totals };
  return {
    segment,
    backfill,
    cursor: cursor ?? null,
    done,
    part: part + 1,
    totals: {
      scanned: before.scanned + scanned,
      missing: before.missing + missing.length,
      written: before.written + written,
      objectsWritten: before.objectsWritten + (written > 0 ? 1 : 0),
      refused: before.refused + refused.length,
      firstRefused: [...before.firstRefused, ...refused].slice(0, FIRST_REFUSED_LISTED),
    },
  };
}

/** `backfill-<run>`, without doubling the prefix when the execution is already named `backfill-…` (the CLI's default). */
export function backfillObjectStem(runId: string): string {
  return runId.startsWith('backfill-') ? runId : `backfill-${runId}`;
}

export interface BackfillSummary {
  readonly dryRun: boolean;
  readonly segments: number;
  readonly archivedBefore: number;
  readonly scanned: number;
  readonly missing: number;
  readonly written: number;
  readonly objectsWritten: number;
  readonly refused: number;
  readonly firstRefused: readonly RefusedEvent[];
  readonly failedSegments: number;
  readonly durationMs: number;
}

const SegmentDone = z.object({
  segment: z.number(),
  totals: z.object({
    scanned: z.number(),
    missing: z.number(),
    written: z.number(),
    objectsWritten: z.number(),
    refused: z.number().default(0),
    firstRefused: z.array(z.object({ eventId: z.string(), aggregateId: z.string(), version: z.number().nullable(), reason: z.string() })).default([]),
  }),
});

/** Tolerated failures: zero segments. A failed segment may have left events unarchived; the report names it. */
export function summarizeBackfill(
  state: { backfill?: BackfillPlan; segmentResults?: unknown; failure?: unknown },
  nowMs: number,
): { succeeded: true; summary: BackfillSummary } | { succeeded: false; error: string; cause: string; summary: BackfillSummary } {
  const plan = state.backfill;
  const totals = { scanned: 0, missing: 0, written: 0, objectsWritten: 0, refused: 0 };
  const firstRefused: RefusedEvent[] = [];
  const failures: ChildFailure[] = [];
  for (const child of Array.isArray(state.segmentResults) ? state.segmentResults : []) {
    const failure = ChildFailure.safeParse(child);
    if (failure.success) {
      failures.push(failure.data);
      continue;
    }
    const done = SegmentDone.safeParse(child);
    if (!done.success) {
      failures.push({ failed: true, error: 'UnreadableChildResult', cause: JSON.stringify(child).slice(0, 500) });
      continue;
    }
    for (const name of Object.keys(totals) as (keyof typeof totals)[]) totals[name] += done.data.totals[name];
    firstRefused.push(...done.data.totals.firstRefused);
  }
  const summary: BackfillSummary = {
    dryRun: plan?.dryRun ?? false,
    segments: plan?.totalSegments ?? 0,
    archivedBefore: plan?.archivedEvents ?? 0,
    ...totals,
    firstRefused: firstRefused.slice(0, FIRST_REFUSED_LISTED),
    failedSegments: failures.length,
    durationMs: plan ? Math.max(0, nowMs - Date.parse(plan.startedAt)) : 0,
  };
  const step = StepFailure.safeParse(state.failure);
  if (step.success) {
    return failed('BackfillFailed', `the backfill stopped: ${step.data.Error}${step.data.Cause ? `: ${step.data.Cause}` : ''}`, summary, failures);
  }
  if (failures.length > 0) {
    return failed('BackfillFailed', `${failures.length} Scan segment(s) failed (tolerated: 0); running the backfill again completes them`, summary, failures);
  }
  return { succeeded: true, summary };
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(workers);
}
