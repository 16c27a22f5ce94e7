import { randomUUID } from 'node:crypto';
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArchiveObjects } from '../../application/replay-ports';
import { readArchiveLines } from '../../application/replay-lines';
import { mapLimit } from '../../application/sequencer';
import { cartEnvelopes } from './cart-events';

/** The seeded archive's layout, shared by the replay and rebuild entries (and said in their notes). */
export const EVENTS_PER_CART = 10;
export const EVENTS_PER_OBJECT = 1_000;
/** The replay's Distributed Map runs 16 objects at a time; the floor reads with the same parallelism. */
export const READ_CONCURRENCY = 16;
/** PUTs in flight while seeding: s3rver writes each object to disk, so a few at a time keep it busy. */
const WRITE_CONCURRENCY = 16;

/** The archive prefix of one UTC day (`YYYY-MM-DD`): a replay window of that day selects exactly these objects. */
export function archiveDayPrefix(day: string): string {
  return `events/${day.replaceAll('-', '/')}/`;
}

/**
 * Writes `size` events of fresh carts (EVENTS_PER_CART each, every cart within one object) under `prefix`, as
 * JSON Lines objects of EVENTS_PER_OBJECT events spread over the day's 24 hours, WRITE_CONCURRENCY objects at a
 * time. Each object is built just before its PUT, so a million events never sit in memory at once. Cart ids are
 * `cartIdPrefix` + a UUID, so that an entry can find (and delete) the read-model rows of its carts.
 */
export async function seedArchive(archive: ArchiveObjects, prefix: string, size: number, cartIdPrefix = 'bench-'): Promise<{ objects: number; seconds: number }> {
  const started = performance.now();
  const carts = Math.ceil(size / EVENTS_PER_CART);
  const cartsPerObject = EVENTS_PER_OBJECT / EVENTS_PER_CART;
  const objects = Math.ceil(carts / cartsPerObject);
  await mapLimit(indices(objects), WRITE_CONCURRENCY, async (object) => {
    const lines: string[] = [];
    const first = object * cartsPerObject;
    for (let cart = first; cart < Math.min(carts, first + cartsPerObject); cart++) {
      for (const event of cartEnvelopes(`${cartIdPrefix}${randomUUID()}`, 0, EVENTS_PER_CART)) lines.push(`${JSON.stringify(event)}\n`);
    }
    const hour = String(object % 24).padStart(2, '0');
    await archive.write(`${prefix}${hour}/bench-${object}.jsonl`, lines.join(''));
  });
  return { objects, seconds: (performance.now() - started) / 1000 };
}

/** The floor of a replay: list the objects under `prefix`, read them READ_CONCURRENCY at a time, parse and check every line. */
export async function readAndParse(archive: ArchiveObjects, prefix: string): Promise<{ events: number; seconds: number }> {
  const started = performance.now();
  const keys: string[] = [];
  for await (const object of archive.list(prefix)) keys.push(object.key);
  let events = 0;
  await mapLimit(keys, READ_CONCURRENCY, async (key) => {
    const text = await archive.read(key);
    const parsed = readArchiveLines(key, text ?? '');
    if (parsed.badLines.length > 0) throw new Error('the seeded archive has invalid lines');
    events += parsed.events.length;
  });
  return { events, seconds: (performance.now() - started) / 1000 };
}

/** Deletes every object under `prefix` (DeleteObjects, 1,000 keys a request). Returns how many. */
export async function deleteArchivePrefix(s3: S3Client, archive: ArchiveObjects, bucket: string, prefix: string): Promise<number> {
  const keys: string[] = [];
  for await (const object of archive.list(prefix)) keys.push(object.key);
  for (let i = 0; i < keys.length; i += 1_000) {
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1_000).map((Key) => ({ Key })), Quiet: true } }));
  }
  return keys.length;
}

function indices(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}
