import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handlerEnvironment, loadLocalConfig, portEnvironment, PORT_VARIABLES, type LocalConfig } from './config';
import { freePort } from './process/free-port';
import { LocalStack, type LocalStackOptions } from './stack';

export interface IsolatedStack {
  readonly config: LocalConfig;
  readonly stack: LocalStack;
  /** The variables that point a process (and the handlers it loads) at this stack. */
  readonly environment: Record<string, string>;
  /** Stops every component and deletes the data folder (kept when KEEP_TEST_DATA=true). */
  stop(): Promise<void>;
}

/**
 * The whole local stack as `npm start` runs it, but on free ports and a fresh temporary data folder, so that
 * test runs and benchmarks never touch a developer's stack, its data, or each other.
 */
export async function startIsolatedStack(options: { name: string } & Omit<LocalStackOptions, 'fresh'>): Promise<IsolatedStack> {
  const variables: Record<string, string> = { LOCAL_DATA_DIR: mkdtempSync(join(tmpdir(), `cdc-cart-${options.name}-`)) };
  for (const { variable } of Object.values(PORT_VARIABLES)) variables[variable] = String(await freePort());
  const config = loadLocalConfig({ ...process.env, ...variables });
  // The canary is off unless a test asks for it: its probe carts, replays and dead-letter checks would otherwise
  // run in the middle of other tests' stacks.
  const stack = new LocalStack(config, { canaryIntervalSeconds: 0, ...options, fresh: true });
  try {
    await stack.start();
  } catch (error) {
    await stack.stop().catch(() => undefined);
    rmSync(config.dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    config,
    stack,
    environment: { ...variables, ...handlerEnvironment(config), ...portEnvironment(config) },
    async stop() {
      await stack.stop();
      if (process.env.KEEP_TEST_DATA !== 'true') rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
