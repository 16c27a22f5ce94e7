import { join, resolve } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LAMBDA_BUNDLING } from '../../infra/lambda-bundling';
import { LAMBDAS } from '../../lambdas/registry';
import { bundledFileOf } from './invoke';

const PROJECT_ROOT = resolve(__dirname, '..', '..');

/** The bundling options infra/lambda-bundling.ts sets that esbuildOptionsFor knows how to pass on. */
const TRANSLATED: readonly (keyof BundlingOptions)[] = ['format', 'target', 'minify', 'sourceMap', 'bundleAwsSDK'];

/**
 * The esbuild options that CDK's NodejsFunction derives from its bundling options (aws-lambda-nodejs `Bundling`:
 * `esbuild --bundle ENTRY --target=T --platform=node --format=F --outfile=OUT --minify --sourcemap`, the AWS SDK
 * external unless bundleAwsSDK). An option infra sets that is not translated here fails the bundling, so the two
 * cannot drift apart silently.
 */
export function esbuildOptionsFor(bundling: BundlingOptions): BuildOptions {
  const untranslated = Object.keys(bundling).filter((key) => !TRANSLATED.includes(key as keyof BundlingOptions));
  if (untranslated.length > 0) {
    throw new Error(`local/lambda/bundle.ts does not pass on the bundling option(s) ${untranslated.join(', ')} of infra/lambda-bundling.ts: add them as CDK passes them to esbuild`);
  }
  return {
    bundle: true,
    platform: 'node',
    target: bundling.target,
    ...(bundling.format ? { format: bundling.format } : {}),
    minify: bundling.minify ?? false,
    sourcemap: bundling.sourceMap ?? false,
    // CDK leaves the SDK to the runtime unless told to bundle it (its @smithy/* too, behind a feature flag).
    external: bundling.bundleAwsSDK ? [] : ['@aws-sdk/*'],
    logLevel: 'warning',
  };
}

/**
 * Bundles every entry of lambdas/registry.ts as `cdk deploy` does, into `outDir` (one file per entry, beside its
 * source map). Returns the files by entry.
 */
export async function bundleLambdas(outDir: string, bundling: BundlingOptions = LAMBDA_BUNDLING): Promise<Map<string, string>> {
  const options = esbuildOptionsFor(bundling);
  const entries = [...new Set(Object.values(LAMBDAS).map((lambda) => lambda.entry))];
  // One build of all entries: without code splitting each output is a whole bundle, as CDK's one-entry builds make,
  // but the sources (the AWS SDK above all) are parsed once.
  await build({ ...options, entryPoints: entries.map((entry) => join(PROJECT_ROOT, entry)), outbase: PROJECT_ROOT, outdir: outDir, absWorkingDir: PROJECT_ROOT });
  return new Map(entries.map((entry) => [entry, bundledFileOf(outDir, entry)]));
}
