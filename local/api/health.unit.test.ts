import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handlerEnvironment, loadLocalConfig, PORT_VARIABLES } from '../config';
import { freePort } from '../process/free-port';
import { writeHeartbeat } from '../process/heartbeat';
import { apiServer } from './server';

/** GET /health answers 503, naming what is not ready, when an emulator does not answer or a service is down. */
describe('GET /health', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('answers 503 with each component that is not ready and why', async () => {
    // Every emulator port is one nothing listens on; the "pipe" service never wrote a heartbeat.
    const ports = Object.fromEntries(await Promise.all(Object.values(PORT_VARIABLES).map(async ({ variable }) => [variable, String(await freePort())])));
    const config = loadLocalConfig({ ...ports, LOCAL_DATA_DIR: mkdtempSync(join(tmpdir(), 'health-')) });
    Object.assign(process.env, handlerEnvironment(config), { LOCAL_SERVICES: 'api,pipe,archiver' });
    writeHeartbeat(config.dataDir, { name: 'archiver', pid: process.pid, at: Date.now() });
    const running = await apiServer.start(config);
    try {
      const response = await fetch(`http://127.0.0.1:${config.ports.api}/health`);
      expect(response.status).toBe(503);
      const report = await response.json();
      expect(report).toMatchObject({
        status: 'unavailable',
        components: {
          dynamodb: { ready: false },
          kinesis: { ready: false },
          s3: { ready: false },
          api: { ready: true },
          archiver: { ready: true },
          pipe: { ready: false, detail: 'not running' },
        },
      });
    } finally {
      await running.stop();
    }
  }, 30_000);
});
