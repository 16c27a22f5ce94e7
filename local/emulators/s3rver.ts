import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LOCAL_HOST } from '../config';
import type { LocalComponent } from '../process/component';

/** The parts of s3rver's FilesystemStore (lib/stores/filesystem.js) that the atomic put uses. */
interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: { bucket: string; key: string; content: Readable | Buffer; metadata: Record<string, string> }): Promise<{ size: number; md5: string }>;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver: new (options: Record<string, unknown>) => { store: FilesystemStore; run(): Promise<unknown>; close(): Promise<void> } = require('s3rver');

/**
 * Makes the store's PutObject atomic, as S3's is: "Amazon S3 never adds partial objects; if you receive a success
 * response, Amazon S3 added the entire object to the bucket" (PutObject, Amazon S3 API Reference), and a read after
 * a write sees either the old object or the whole new one (strong read-after-write consistency, "Amazon S3 data
 * consistency model", S3 User Guide).
 *
 * s3rver 3.7.1 writes the body straight into the object's file: a ListObjectsV2 or GetObject during the upload sees
 * the key with part of its body (or none: an overwrite truncates first), and an upload the client abandons stays as
 * a partial object. A reader that keeps what it read (verify's probe, a replay) then misses events forever. Here the
 * body goes to a staging file beside the object, whose name s3rver's listing skips (it lists only `*._S3rver_object`),
 * and only the whole, flushed body is renamed into place; a failed upload removes its staging file.
 */
export function makePutsAtomic(store: FilesystemStore): void {
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    const staging = `${objectPath}.${randomUUID()}.staging`;
    await mkdir(dirname(objectPath), { recursive: true });
    const md5 = createHash('md5');
    let size = 0;
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      // The pipeline settles once the staging file is written and closed, or when the upload fails.
      await pipeline(Buffer.isBuffer(object.content) ? Readable.from([object.content]) : object.content, measure, createWriteStream(staging));
      const digest = md5.digest('hex');
      await store.putMetadata(object.bucket, object.key, object.metadata, digest);
      await rename(staging, objectPath);
      return { size, md5: digest };
    } catch (error) {
      await rm(staging, { force: true });
      throw error;
    }
  };
}

export const s3Emulator: LocalComponent = {
  name: 's3',
  // s3rver's ListObjectsV2 continuation tokens use DES, which OpenSSL 3 only has in its legacy provider.
  nodeOptions: ['--openssl-legacy-provider'],
  async start(config) {
    const directory = join(config.dataDir, 's3');
    mkdirSync(directory, { recursive: true });
    const server = new S3rver({
      address: LOCAL_HOST,
      port: config.ports.s3,
      directory,
      silent: true,
      configureBuckets: [{ name: config.resources.archiveBucket }],
    });
    makePutsAtomic(server.store);
    await server.run();
    return { stop: () => server.close() };
  },
};
