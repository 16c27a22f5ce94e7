import { readArchiveLines, type BadLineReason } from './replay-lines';
import type { ArchiveObjectInfo, ArchiveObjects } from './replay-ports';
import { ARCHIVE_EVENTS_PREFIX, archiveHourPrefix, arrivalHourOf } from './replay-window';

export interface ArchiveHour {
  /** The hour's key prefix, e.g. `events/2026/11/30/04/`; `other` for keys outside the archive's layout. */
  readonly prefix: string;
  /** ISO 8601 start of the arrival hour (UTC); undefined for `other`. */
  readonly hour?: string;
  readonly objects: readonly ArchiveObjectInfo[];
  readonly bytes: number;
}

/** The archive's event objects grouped by arrival hour, newest hour first, objects by key within one. */
export async function archiveByHour(archive: Pick<ArchiveObjects, 'list'>): Promise<ArchiveHour[]> {
  const hours = new Map<string, { hour?: string; objects: ArchiveObjectInfo[] }>();
  for await (const object of archive.list(ARCHIVE_EVENTS_PREFIX)) {
    const hourMs = arrivalHourOf(object.key);
    const prefix = hourMs === undefined ? 'other' : archiveHourPrefix(hourMs);
    const entry = hours.get(prefix) ?? (hourMs === undefined ? { objects: [] } : { hour: new Date(hourMs).toISOString(), objects: [] });
    entry.objects.push(object);
    hours.set(prefix, entry);
  }
  return [...hours.entries()]
    .map(([prefix, { hour, objects }]) => ({
      prefix,
      ...(hour === undefined ? {} : { hour }),
      objects: objects.sort((a, b) => a.key.localeCompare(b.key)),
      bytes: objects.reduce((sum, object) => sum + object.size, 0),
    }))
    .sort((a, b) => (a.prefix === 'other' ? 1 : b.prefix === 'other' ? -1 : b.prefix.localeCompare(a.prefix)));
}

/** Where archived objects may be opened from: the event objects only (not the backfill's index). */
export function isArchiveEventKey(key: string): boolean {
  return key.startsWith(ARCHIVE_EVENTS_PREFIX) && !key.includes('..');
}

/** One line of an archive object as the console shows it: what it holds, and why it is no event when it is not. */
export type ArchiveLineView = Record<string, unknown> & { readonly line: number; readonly problem?: { readonly reason: BadLineReason; readonly detail: string } };

export interface ArchiveObjectView {
  readonly key: string;
  /** Events a replay would read from it (each eventId once), as readArchiveLines counts them. */
  readonly events: number;
  /** Lines repeating an eventId read earlier in the object (at-least-once delivery): skipped, not lost. */
  readonly duplicates: number;
  /** Lines no replay can read (not JSON, not an event envelope, ...). */
  readonly unreadable: number;
  readonly lines: readonly ArchiveLineView[];
}

/** An archive object's lines, counted the way the replay reads them: an unreadable line is no event. */
export function describeArchiveObject(key: string, text: string): ArchiveObjectView {
  const { events, badLines } = readArchiveLines(key, text);
  const problems = new Map(badLines.map((bad) => [bad.line, { reason: bad.reason, detail: bad.detail }]));
  const lines: ArchiveLineView[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    const line = index + 1;
    const problem = problems.get(line);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      parsed = undefined;
    }
    const fields = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { unreadable: raw };
    lines.push({ ...fields, line, ...(problem ? { problem } : {}) });
  });
  const duplicates = badLines.filter((bad) => bad.reason === 'duplicate').length;
  return { key, events: events.length, duplicates, unreadable: badLines.length - duplicates, lines };
}
