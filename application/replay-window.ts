/**
 * The archive's key layout (fixed for the archiver and Firehose alike): `events/YYYY/MM/DD/HH/<file>.jsonl`,
 * where the hour is the UTC hour in which the archiver received the events (their arrival), not when they
 * occurred. A replay window therefore selects whole objects by their arrival hour, which is exact: the key
 * says which hour an object belongs to, and no event can hide in another hour's folder.
 */
export const ARCHIVE_EVENTS_PREFIX = 'events/';

const HOUR_MS = 60 * 60 * 1000;
const KEY_PATTERN = /^events\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\/[^/]+$/;

/** Start of the UTC hour that contains the instant. */
export function hourFloor(epochMs: number): number {
  return Math.floor(epochMs / HOUR_MS) * HOUR_MS;
}

/** `events/YYYY/MM/DD/HH/` of the hour that contains the instant. */
export function archiveHourPrefix(epochMs: number): string {
  const iso = new Date(hourFloor(epochMs)).toISOString(); // 2024-05-01T10:00:00.000Z
  return `${ARCHIVE_EVENTS_PREFIX}${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(11, 13)}/`;
}

/** The arrival hour (epoch ms of its start) an archive key belongs to; undefined for keys outside the layout. */
export function arrivalHourOf(key: string): number | undefined {
  const match = KEY_PATTERN.exec(key);
  if (!match) return undefined;
  const [, year, month, day, hour] = match;
  const epochMs = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour));
  // Date.UTC rolls 2024/02/31 over into March: a key like that is not one the archiver writes.
  return archiveHourPrefix(epochMs) === key.slice(0, ARCHIVE_EVENTS_PREFIX.length + 14) ? epochMs : undefined;
}

/** A replay window in arrival hours, both ends inclusive (epoch ms of the hours' starts). */
export interface HourWindow {
  readonly fromHour?: number;
  readonly toHour?: number;
}

/** The hours whose span [H, H+1h) meets the instants [from, to]: an object is in if any part of its hour is. */
export function hourWindow(from?: string, to?: string): HourWindow {
  return {
    ...(from === undefined ? {} : { fromHour: hourFloor(Date.parse(from)) }),
    ...(to === undefined ? {} : { toHour: hourFloor(Date.parse(to)) }),
  };
}

export function isKeyInWindow(key: string, window: HourWindow): boolean {
  const hour = arrivalHourOf(key);
  if (hour === undefined) return false;
  return (window.fromHour === undefined || hour >= window.fromHour) && (window.toHour === undefined || hour <= window.toHour);
}

/**
 * The longest key prefix every object of the window shares, for the listing (S3 lists by prefix only): a window
 * within one day lists that day's folder, not the whole archive. Objects listed outside the window are skipped
 * by key, without being read.
 */
export function listingPrefix(window: HourWindow): string {
  if (window.fromHour === undefined || window.toHour === undefined) return ARCHIVE_EVENTS_PREFIX;
  const a = archiveHourPrefix(window.fromHour);
  const b = archiveHourPrefix(window.toHour);
  let length = 0;
  while (length < a.length && a[length] === b[length]) length += 1;
  // Cut back to a whole folder, so that e.g. hours 10 and 19 do not share the prefix ".../1".
  return a.slice(0, a.lastIndexOf('/', length - 1) + 1);
}

/** Where an object written at `arrivalMs` goes, e.g. by the backfill. */
export function archiveObjectKey(arrivalMs: number, fileName: string): string {
  return `${archiveHourPrefix(arrivalMs)}${fileName}`;
}
