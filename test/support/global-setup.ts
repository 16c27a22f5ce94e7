import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handlerEnvironment, loadLocalConfig, portEnvironment } from '../../local/config';
import { LocalStack } from '../../local/stack';
import { freePort } from './free-port';

/**
 * Starts one whole local stack for the integration run, exactly as `npm start` does, but on free ports and a
 * fresh temporary data folder, so that several runs on one machine never collide. Workers inherit the
 * environment set here and reach the stack through it.
 */
export default async function globalSetup(): Promise<void> {
  const env = {
    API_PORT: String(await freePort()),
    DYNAMODB_PORT: String(await freePort()),
    KINESIS_PORT: String(await freePort()),
    S3_PORT: String(await freePort()),
    STEPFUNCTIONS_PORT: String(await freePort()),
    LOCAL_DATA_DIR: mkdtempSync(join(tmpdir(), 'cdc-cart-test-')),
  };
  const config = loadLocalConfig({ ...process.env, ...env });
  const lines: string[] = [];
  const stack = new LocalStack(config, { fresh: true, log: (line) => lines.push(line) });
  (globalThis as { __localStack?: LocalStack; __localStackLog?: string[] }).__localStack = stack;
  (globalThis as { __localStackLog?: string[] }).__localStackLog = lines;
  try {
    await stack.start();
  } catch (error) {
    console.error(lines.slice(-50).join('\n'));
    await stack.stop().catch(() => undefined);
    throw error;
  }
  Object.assign(process.env, env, handlerEnvironment(config), portEnvironment(config));
}
