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
