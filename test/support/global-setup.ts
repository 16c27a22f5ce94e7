import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AWS_CALL_RECORDING_DIR } from '../../adapters/aws-call-recorder';
import { startIsolatedStack, type IsolatedStack } from '../../local/isolated-stack';

/**
 * Starts one whole local stack for the integration run, exactly as `npm start` does, but on free ports and a
 * fresh temporary data folder, so that several runs on one machine never collide. Workers inherit the
 * environment set here and reach the stack through it.
 */
export default async function globalSetup(): Promise<void> {
  // IAM evidence (test/iam/): the stack's processes, which run the handlers, inherit this environment, so every AWS
  // call a handler makes during the run is recorded there.
  const recording = process.env[AWS_CALL_RECORDING_DIR];
  if (recording) {
    process.env[AWS_CALL_RECORDING_DIR] = resolve(recording);
    mkdirSync(process.env[AWS_CALL_RECORDING_DIR], { recursive: true });
  }
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
