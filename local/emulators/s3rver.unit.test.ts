import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_RESOURCE_NAMES, type LocalConfig, type LocalPorts } from '../config';
import type { RunningComponent } from '../process/component';
import { freePort } from '../process/free-port';
import { s3Emulator } from './s3rver';

const BUCKET = LOCAL_RESOURCE_NAMES.archiveBucket;
let dataDir: string;
let port: number;
let s3: RunningComponent;
const uploads: ClientRequest[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 's3rver-atomic-'));
  port = await freePort();
  const config: LocalConfig = { dataDir, ports: { s3: port } as LocalPorts, resources: LOCAL_RESOURCE_NAMES };
  s3 = await s3Emulator.start(config);
});

afterAll(async () => {
  // An upload a failed test left open would keep the server from closing.
  for (const upload of uploads.splice(0)) upload.destroy();
  await s3?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const url = (path: string) => `http://127.0.0.1:${port}/${BUCKET}/${path}`;

/** An upload the test paces: the body's first part now, the rest when told (or never: `abandon`). */
function startUpload(key: string, first: string, rest: string): { answered: Promise<number>; finish(): void; abandon(): void } {
  let upload: ClientRequest;
  const answered = new Promise<number>((resolve, reject) => {
    upload = request(url(key), { method: 'PUT', headers: { 'content-length': Buffer.byteLength(first + rest), 'content-type': 'application/x-ndjson' } }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    upload.on('error', reject);
    uploads.push(upload);
    upload.write(first);
  });
  return { answered, finish: () => upload.end(rest), abandon: () => upload.destroy() };
}

/** Every file under the bucket's folder, with its size: the way to know the emulator has taken the first part. */
function filesOnDisk(): { path: string; size: number }[] {
  const root = join(dataDir, 's3', BUCKET);
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((path) => join(root, path))
    .filter((path) => statSync(path).isFile())
    .map((path) => ({ path, size: statSync(path).size }));
}

async function until(what: string, done: () => boolean, budgetMs = 10_000): Promise<void> {
  const deadline = Date.now() + budgetMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not within ${budgetMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function read(key: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url(key));
  return { status: response.status, body: await response.text() };
}

async function listed(prefix: string): Promise<string[]> {
  const xml = await (await fetch(`http://127.0.0.1:${port}/${BUCKET}?list-type=2&prefix=${encodeURIComponent(prefix)}`)).text();
  return [...xml.matchAll(/<Key>([^<]+)<\/Key>/g)].map((match) => match[1]!);
}

// What S3 promises and s3rver alone does not keep: "Amazon S3 never adds partial objects" (PutObject), and a read
// sees the old object or the whole new one (strong read-after-write consistency).
describe('the local S3 emulator: PutObject is atomic, as S3\'s is', () => {
  const first = `${'{"eventId":"a"}\n'.repeat(2_000)}`;
  const rest = `${'{"eventId":"b"}\n'.repeat(2_000)}`;

  it('given an upload in progress, the key is neither listed nor readable; once answered, the whole body is', async () => {
    const key = 'events/2026/12/05/18/in-progress.jsonl';
    const upload = startUpload(key, first, rest);
    await until('the emulator has the first part on disk', () => filesOnDisk().some((file) => file.size >= first.length));

    expect(await listed('events/2026/12/05/18/')).toEqual([]);
    expect((await read(key)).status).toBe(404);

    upload.finish();
    expect(await upload.answered).toBe(200);
    expect(await listed('events/2026/12/05/18/')).toEqual([key]);
    expect(await read(key)).toEqual({ status: 200, body: first + rest });
  });

  it('given an object being overwritten, a read sees the whole old object until the new one is whole', async () => {
    const key = 'events/2026/12/05/19/rewritten.jsonl';
    const old = startUpload(key, first, rest);
    old.finish();
    expect(await old.answered).toBe(200);

    const renewed = first.replaceAll('"a"', '"c"');
    const upload = startUpload(key, renewed, rest);
    await until('the emulator has the new first part on disk', () => filesOnDisk().some((file) => file.size === renewed.length));
    expect(await read(key)).toEqual({ status: 200, body: first + rest });

    upload.finish();
    expect(await upload.answered).toBe(200);
    expect(await read(key)).toEqual({ status: 200, body: renewed + rest });
  });

  it('given an upload the client abandons, nothing is added and no staging file stays behind', async () => {
    const key = 'events/2026/12/05/20/abandoned.jsonl';
    const before = filesOnDisk().length;
    const upload = startUpload(key, first, rest);
    upload.answered.catch(() => undefined);
    await until('the emulator has the first part on disk', () => filesOnDisk().some((file) => file.path.includes('abandoned') && file.size >= first.length));

    upload.abandon();
    await until('the abandoned upload has left nothing on disk', () => filesOnDisk().length === before);
    expect(await listed('events/2026/12/05/20/')).toEqual([]);
    expect((await read(key)).status).toBe(404);
  });
});
