import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handlerEnvironment, loadLocalConfig, portEnvironment, type LocalConfig } from '../../local/config';
import { LocalStack } from '../../local/stack';
import { freePort } from '../../test/support/free-port';

export interface StartedStack {
  readonly config: LocalConfig;
  readonly stack: LocalStack;
  stop(): Promise<void>;
}

/**
 * The whole local stack, as `npm start` runs it, on free ports and a fresh temporary data folder, so that a
 * benchmark never touches a developer's stack or data. This process's environment then points every AWS client
 * (and handler loaded here) at it.
 */
export async function startBenchStack(log: (line: string) => void = () => undefined): Promise<StartedStack> {
  const env = {
    API_PORT: String(await freePort()),
    DYNAMODB_PORT: String(await freePort()),
    KINESIS_PORT: String(await freePort()),
    S3_PORT: String(await freePort()),
    STEPFUNCTIONS_PORT: String(await freePort()),
    LOCAL_DATA_DIR: mkdtempSync(join(tmpdir(), 'cdc-cart-bench-')),
  };
  const config = loadLocalConfig({ ...process.env, ...env });
  const stack = new LocalStack(config, { fresh: true, log });
  try {
    await stack.start();
  } catch (error) {
    await stack.stop().catch(() => undefined);
    throw error;
  }
  Object.assign(process.env, env, handlerEnvironment(config), portEnvironment(config));
  return {
    config,
    stack,
    async stop() {
      await stack.stop();
      rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
