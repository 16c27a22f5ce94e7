import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundledFileOf } from '../../local/lambda/invoke';
import { LAMBDAS, type LambdaName } from '../../lambdas/registry';

/**
 * Runs one invocation of a bundled handler as the Lambda runtime would: a fresh plain Node.js process (no tsx, no
 * jest, no project sources on the way) that requires the bundle, calls its export with the event and a context,
 * and hands back the result. The stack's environment comes from the integration globalSetup.
 */
const RUNNER = `
const [file, exportName, functionName, eventFile, resultFile] = process.argv.slice(1);
const fs = require('node:fs');
const deadline = Date.now() + 30000;
const context = {
  callbackWaitsForEmptyEventLoop: false, functionName, functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:' + functionName, memoryLimitInMB: '256',
  awsRequestId: require('node:crypto').randomUUID(), logGroupName: '/aws/lambda/' + functionName, logStreamName: 'bundled',
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};
Promise.resolve(require(file)[exportName](JSON.parse(fs.readFileSync(eventFile, 'utf8')), context)).then(
  (result) => { fs.writeFileSync(resultFile, JSON.stringify(result === undefined ? null : result)); process.exit(0); },
  (error) => { console.error(error); process.exit(1); },
);`;

export interface BundledInvocation<T> {
  readonly result: T;
  /** What the handler wrote (its Powertools log lines go to stdout, as on Lambda). */
  readonly stdout: string;
}

/** `env`: variables on top of the stack's, for a handler whose deployed environment the local stack does not set. */
export async function invokeBundled<T = unknown>(bundlesDir: string, name: LambdaName, event: unknown, env: Record<string, string> = {}): Promise<BundledInvocation<T>> {
  const { entry, handler } = LAMBDAS[name];
  const work = mkdtempSync(join(tmpdir(), 'cdc-cart-invoke-'));
  try {
    writeFileSync(join(work, 'event.json'), JSON.stringify(event));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['-e', RUNNER, bundledFileOf(bundlesDir, entry), handler, name, join(work, 'event.json'), join(work, 'result.json')],
      { env: { ...process.env, ...env, NODE_OPTIONS: '--enable-source-maps' }, maxBuffer: 16 * 1024 * 1024, timeout: 60_000 },
    );
    return { result: JSON.parse(readFileSync(join(work, 'result.json'), 'utf8')) as T, stdout };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
