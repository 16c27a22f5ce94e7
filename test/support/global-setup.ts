import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startIsolatedStack, type IsolatedStack } from '../../local/isolated-stack';

/**
 * Starts one whole local stack for the integration run, exactly as `npm start` does, but on free ports and a
 * fresh temporary data folder, so that several runs on one machine never collide. Workers inherit the
 * environment set here and reach the stack through it.
 */
export default async function globalSetup(): Promise<void> {
  const lines: string[] = [];
  let started: IsolatedStack;
  try {
    // TEST_BUNDLED_LAMBDAS=true: the stack runs the bundles `cdk deploy` ships, as `npm start -- --bundled` does.
    const lambdaBundlesDir = process.env.TEST_BUNDLED_LAMBDAS === 'true' ? mkdtempSync(join(tmpdir(), 'cdc-cart-test-bundles-')) : undefined;
    if (lambdaBundlesDir) {
      await (await import('../../local/lambda/bundle')).bundleLambdas(lambdaBundlesDir);
      process.once('exit', () => rmSync(lambdaBundlesDir, { recursive: true, force: true }));
    }
    started = await startIsolatedStack({ name: 'test', log: (line) => lines.push(line), ...(lambdaBundlesDir ? { lambdaBundlesDir } : {}) });
  } catch (error) {
    console.error(lines.slice(-50).join('\n'));
    throw error;
  }
  (globalThis as { __localStack?: IsolatedStack }).__localStack = started;
  Object.assign(process.env, started.environment);
}
