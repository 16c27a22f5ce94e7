import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_HOST } from '../config';
import type { LocalComponent } from '../process/component';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver: new (options: Record<string, unknown>) => { run(): Promise<unknown>; close(): Promise<void> } = require('s3rver');

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
    await server.run();
    return { stop: () => server.close() };
  },
};
