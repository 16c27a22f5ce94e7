import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/**
 * How every Lambda of lambdas/registry.ts is bundled for `cdk deploy` (infra/constructs/registry-functions.ts).
 * `npm start -- --bundled` and the bundled-handler test build with these same options (local/lambda/bundle.ts), so
 * what runs locally is what ships.
 */
export const LAMBDA_BUNDLING = {
  format: OutputFormat.CJS,
  target: 'node22',
  minify: true,
  sourceMap: true,
  // The SDK is bundled at the versions the tests ran with, rather than whatever the runtime ships.
  bundleAwsSDK: true,
} as const satisfies BundlingOptions;
