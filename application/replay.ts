import { z } from 'zod';
import { EventEnvelope } from '../domain/events';
import type { ApplyCounts, ArchiveObjects, EventRepublisher, ReplayProjections } from './replay-ports';
import { hourWindow, isKeyInWindow, listingPrefix, type HourWindow } from './replay-window';

/** The replay input, exactly as an operator passes it to StartExecution. Unknown fields are refused. */
export const ReplayInput = z
  .strictObject({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    target: z.enum(['projections', 'stream']),
    projections: z.array(z.string().min(1)).min(1).optional(),
    rebuild: z.boolean().optional(),
    dryRun: z.boolean().optional(),
  })
  .refine((input) => !input.from || !input.to || Date.parse(input.from) <= Date.parse(input.to), {
    message: '"from" must not be after "to"',
    path: ['from'],
  })
  .refine((input) => input.target === 'projections' || (!input.rebuild && !input.projections), {
    message: '"rebuild" and "projections" apply to target "projections" only',
    path: ['target'],
  });
export type ReplayInput = z.infer<typeof ReplayInput>;

/** What every step after the plan works from (it is small: it travels in each child's input). */
export interface ReplayPlan {
  readonly target: 'projections' | 'stream';
  readonly projections: readonly string[];
  readonly rebuild: boolean;
  readonly dryRun: boolean;
  readonly from?: string;
  readonly to?: string;
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
      dryRun: input.dryRun ?? false,
      ...(input.from === undefined ? {} : { from: input.from }),
      ...(input.to === undefined ? {} : { to: input.to }),
      window,
      prefix: listingPrefix(window),
      executionName: request.executionName,
      startedAt: request.startedAt,
    },
  };
}

function invalid(cause: string): PlanResult {
  return { valid: false, error: 'InvalidReplayInput', cause: `invalid replay input: ${cause}. Expected {"from"?, "to"? (ISO-8601), "target": "projections"|"stream", "projections"?: [names], "rebuild"?: boolean, "dryRun"?: boolean}` };
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`).join('; ');
}

/** What one child reports for one archive object. */
export interface ObjectResult {
  readonly key: string;
  readonly inWindow: boolean;
  readonly eventsRead: number;
  readonly applied: number;
  readonly skippedDuplicates: number;
  readonly caughtUp: number;
}

/** Lines of an archive object that are not an EventEnvelope: nothing can be applied from them. */
export class InvalidArchiveLines extends Error {
  override readonly name = 'InvalidArchiveLines';
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
 * Replays one archive object. Its events are read once each (an eventId seen twice in the object counts as a
 * duplicate, per projection), put in (cart, version) order, and handed to the target as one batch. Applying is idempotent, so
 * a retried child, an object listed twice or an event archived twice all end in the same state.
 * Lines that are not envelopes fail the object after the valid ones are applied, naming the lines.
 */
export async function replayObject(deps: ReplayObjectDeps, request: { key: string; replay: ReplayPlan }): Promise<ObjectResult> {
  const { key, replay } = request;
  if (!isKeyInWindow(key, replay.window)) return { key, inWindow: false, eventsRead: 0, applied: 0, skippedDuplicates: 0, caughtUp: 0 };
  const text = await deps.archive.read(key);
  if (text === undefined) throw new ArchiveObjectMissing(`archive object ${key} was listed but no longer exists`);
  const { events, invalid, eventsRead } = parseArchiveObject(text);
  const unique = uniqueByEventId(events).sort(byCartAndVersion);
  let counts: ApplyCounts = { applied: 0, skipped: 0, caughtUp: 0 };
  if (!replay.dryRun && unique.length > 0) {
    if (replay.target === 'projections') counts = await deps.projections.apply(replay.projections, unique);
    else counts = { applied: await deps.stream.publish(unique.map(markReplayed)), skipped: 0, caughtUp: 0 };
  }
  if (invalid.length > 0) {
    const sample = invalid.slice(0, 5).map((line) => `line ${line.line}: ${line.reason}`).join('; ');
    throw new InvalidArchiveLines(`${key}: ${invalid.length} line(s) are not event envelopes and were not replayed (${sample})`);
  }
  const duplicatesInObject = (events.length - unique.length) * Math.max(1, replay.target === 'projections' ? replay.projections.length : 1);
  return {
    key,
    inWindow: true,
    eventsRead,
    applied: counts.applied,
    skippedDuplicates: duplicatesInObject + counts.skipped,
    caughtUp: counts.caughtUp,
  };
}

export interface ParsedArchiveObject {
  readonly events: EventEnvelope[];
  readonly invalid: { line: number; reason: string }[];
  readonly eventsRead: number;
}

/** JSON Lines: one envelope per line; blank lines (a trailing newline) are not events. */
export function parseArchiveObject(text: string): ParsedArchiveObject {
  const events: EventEnvelope[] = [];
  const invalid: { line: number; reason: string }[] = [];
  let eventsRead = 0;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index]!.trim();
    if (line === '') continue;
    eventsRead += 1;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      invalid.push({ line: index + 1, reason: 'not JSON' });
      continue;
    }
    const parsed = EventEnvelope.safeParse(json);
    if (parsed.success) events.push(parsed.data);
    else invalid.push({ line: index + 1, reason: describeIssues(parsed.error) });
  }
  return { events, invalid, eventsRead };
}

export function uniqueByEventId(events: readonly EventEnvelope[]): EventEnvelope[] {
  const seen = new Set<string>();
  return events.filter((event) => (seen.has(event.eventId) ? false : (seen.add(event.eventId), true)));
}

export function byCartAndVersion(a: EventEnvelope, b: EventEnvelope): number {
  return a.aggregateId < b.aggregateId ? -1 : a.aggregateId > b.aggregateId ? 1 : a.version - b.version;
}

/** Side-effecting consumers skip what carries this flag; projections apply it as any other delivery. */
export function markReplayed(event: EventEnvelope): EventEnvelope {
  return { ...event, metadata: { ...event.metadata, replayed: true } };
}

export async function resetProjections(projections: ReplayProjections, names: readonly string[]): Promise<{ reset: readonly string[] }> {
  await projections.reset(names);
  return { reset: names };
}
