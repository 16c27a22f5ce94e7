import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { LOCAL_HOST } from '../config';
import type { LocalComponent } from '../process/component';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const kinesalite: (options: Record<string, unknown>) => Server = require('kinesalite');

export const kinesisEmulator: LocalComponent = {
  name: 'kinesis',
  async start(config) {
    const path = join(config.dataDir, 'kinesis');
    mkdirSync(path, { recursive: true });
    const server = kinesalite({ path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 50 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.ports.kinesis, LOCAL_HOST, () => resolve());
    });
    return {
      stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  },
};
