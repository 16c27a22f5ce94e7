import { checkPublishableEvent, type EventRefusalKind } from '../domain/cdc';
import type { EventEnvelope } from '../domain/events';

/**
 * Why a line of an archive object is set aside instead of replayed. Firehose archives whatever reaches the
 * stream (junk, replayed copies, records delivered twice), so an archive object can hold any of these; none of
 * them may fail a replay, and none may be applied.
 */
export const BAD_LINE_REASONS = [
  'not-json',
  'not-an-envelope',
  'unknown-aggregate-type',
  'unknown-type',
  'unknown-schema-version',
  'invalid-data',
  'duplicate',
] as const satisfies readonly ('not-json' | 'duplicate' | EventRefusalKind)[];
export type BadLineReason = (typeof BAD_LINE_REASONS)[number];

/** Reasons that lose nothing: the line's event is replayed from its first copy. They never count against a threshold. */
export const HARMLESS_BAD_LINE_REASONS: readonly BadLineReason[] = ['duplicate'];

/** One line set aside, with what an operator needs to find it and decide. */
export interface BadLine {
  readonly reason: BadLineReason;
  /** The archive object the line is in. */
  readonly key: string;
  /** 1-based line number in that object. */
  readonly line: number;
  readonly detail: string;
  readonly eventId?: string;
  /** The line as archived. */
  readonly text: string;
}

export interface ArchiveLines {
  /** The replayable events, each eventId once, in the object's order. */
  readonly events: EventEnvelope[];
  readonly badLines: BadLine[];
  /** Lines that are not blank (a trailing newline is not a line). */
  readonly linesRead: number;
}

/**
 * Splits an archive object (JSON Lines) into replayable events and bad lines. An event is replayable when it
 * passes exactly the check the CDC applies before publishing (checkPublishableEvent), and its eventId has not
 * been seen earlier in the object. The replay, its dry run and the backfill's archive index all read objects
 * through this function.
 */
export function readArchiveLines(key: string, text: string): ArchiveLines {
  const events: EventEnvelope[] = [];
  const badLines: BadLine[] = [];
  const firstSeen = new Map<string, { line: number; text: string }>();
  let linesRead = 0;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const raw = lines[index]!;
    const line = raw.trim();
    if (line === '') continue;
    linesRead += 1;
    const at = { key, line: index + 1, text: raw };
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      badLines.push({ ...at, reason: 'not-json', detail: (error as Error).message });
      continue;
    }
    const check = checkPublishableEvent(json);
    const eventId = eventIdOf(json);
    if (!check.ok) {
      badLines.push({ ...at, reason: check.refusal, detail: check.reason, ...(eventId === undefined ? {} : { eventId }) });
      continue;
    }
    const first = firstSeen.get(check.envelope.eventId);
    if (first) {
      const same = first.text === line ? 'same content' : 'different content; the first copy is replayed';
      badLines.push({ ...at, reason: 'duplicate', detail: `eventId ${check.envelope.eventId} first at line ${first.line} (${same})`, eventId: check.envelope.eventId });
      continue;
    }
    firstSeen.set(check.envelope.eventId, { line: index + 1, text: line });
    events.push(check.envelope);
  }
  return { events, badLines, linesRead };
}

/** Bad lines counted per reason (only reasons that occur). */
export function countByReason(badLines: readonly Pick<BadLine, 'reason'>[]): Partial<Record<BadLineReason, number>> {
  const counts: Partial<Record<BadLineReason, number>> = {};
  for (const { reason } of badLines) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

function eventIdOf(json: unknown): string | undefined {
  const id = (json as { eventId?: unknown } | null)?.eventId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** Where a replay execution sets its bad lines aside in the archive bucket (outside `events/`: never replayed). */
export const REPLAY_REJECTS_PREFIX = 'replay-rejects/';
/** How long set-aside lines are kept for an operator to look into (archive bucket lifecycle rule; locally the same). */
export const REPLAY_REJECTS_EXPIRE_AFTER_DAYS = 30;

export function rejectsPrefixOf(executionName: string): string {
  return `${REPLAY_REJECTS_PREFIX}${executionName}/`;
}

/** One object of bad lines per archive object that has any: `replay-rejects/<execution>/<archive key>` (JSON Lines). */
export function rejectsKeyOf(executionName: string, archiveKey: string): string {
  return `${rejectsPrefixOf(executionName)}${archiveKey}`;
}

export function rejectsBody(badLines: readonly BadLine[]): string {
  return badLines.map((bad) => `${JSON.stringify(bad)}\n`).join('');
}
