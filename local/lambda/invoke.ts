import { randomUUID } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Context } from 'aws-lambda';
import { isRecordingAwsCalls, runAsLambda } from '../../adapters/aws-call-recorder';
import { LAMBDAS, type LambdaName } from '../../lambdas/registry';
import { LOCAL_INVOCATION_BUDGET_MS } from '../config';

const PROJECT_ROOT = resolve(__dirname, '..', '..');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyHandler = (event: any, context: Context) => Promise<any>;

/**
 * Set by `npm start -- --bundled` (local/stack.ts passes it to every component): the folder of the bundles that
 * local/lambda/bundle.ts built as CDK does. Handlers are then loaded from there instead of the TypeScript sources.
 */
export const LAMBDA_BUNDLES_VARIABLE = 'LOCAL_LAMBDA_BUNDLES';

/** Where bundleLambdas puts the bundle of a registry entry: its path, with .js for .ts. */
export function bundledFileOf(bundlesDir: string, entry: string): string {
  return join(bundlesDir, entry.replace(/\.ts$/, '.js'));
}

/** Loads the handler that CDK deploys for this Lambda name, from the same file and export (or its bundle). */
export function loadHandler(name: LambdaName, bundlesDir = process.env[LAMBDA_BUNDLES_VARIABLE]): AnyHandler {
  const { entry, handler } = LAMBDAS[name];
  const file = bundlesDir ? bundledFileOf(bundlesDir, entry) : join(PROJECT_ROOT, entry);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const module = require(file) as Record<string, unknown>;
  const fn = module[handler];
  if (typeof fn !== 'function') throw new Error(`${file} does not export a function named ${handler}`);
  // Under the tests, the AWS calls of each invocation are recorded under this registry name (IAM evidence).
  if (isRecordingAwsCalls()) return (event, context) => runAsLambda(name, () => (fn as AnyHandler)(event, context));
  return fn as AnyHandler;
}

/** A Lambda context as the runtime gives one, with the remaining time counted from the invocation. */
export function lambdaContext(functionName: string, timeoutMs = LOCAL_INVOCATION_BUDGET_MS): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Invokes a registered Lambda locally as the Lambda service would: one event, one fresh context. */
export async function invokeLocal<T = unknown>(name: LambdaName, event: unknown, handler: AnyHandler = loadHandler(name)): Promise<T> {
  return (await handler(event, lambdaContext(name))) as T;
}
