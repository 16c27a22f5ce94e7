import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadLocalConfig, endpointOf, LOCAL_HOST } from './config';
import { bundleLambdas } from './lambda/bundle';
import { LocalStack } from './stack';

/** Where `--bundled` puts the bundles (rebuilt on every start; .local/ is not committed). */
const LAMBDA_BUNDLES_DIR = '.local/lambda-bundles';

const USAGE = 'usage: npm start [-- [--fresh] [--verbose] [--bundled]]';

/** The command line, in one place: each flag is a boolean option of the stack. */
function parseFlags(argv: string[]): { fresh: boolean; verbose: boolean; bundled: boolean } {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        // Wipe the data folder first.
        fresh: { type: 'boolean', default: false },
        // Also show what the components print on stdout (their activity), not only their errors and warnings.
        verbose: { type: 'boolean', default: false },
        // Run the handlers from the bundles `cdk deploy` ships (same esbuild options) instead of the sources.
        bundled: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    return { fresh: values.fresh, verbose: values.verbose, bundled: values.bundled };
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

/** `npm start [-- --fresh] [--verbose] [--bundled]`: the whole system on this machine, until Ctrl-C. */
async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const config = loadLocalConfig();
  let lambdaBundlesDir: string | undefined;
  if (flags.bundled) {
    const started = Date.now();
    lambdaBundlesDir = resolve(LAMBDA_BUNDLES_DIR);
    rmSync(lambdaBundlesDir, { recursive: true, force: true });
    await bundleLambdas(lambdaBundlesDir);
    console.log(`Lambdas bundled as cdk deploy bundles them, in ${((Date.now() - started) / 1000).toFixed(1)} s: ${lambdaBundlesDir}`);
  }
  const stack = new LocalStack(config, { fresh: flags.fresh, verbose: flags.verbose, ...(lambdaBundlesDir ? { lambdaBundlesDir } : {}) });

  let stopping: Promise<void> | undefined;
  const stop = (signal: string) => {
    if (!stopping) {
      console.log(`\n${signal}: stopping the local stack...`);
      stopping = stack.stop().then(
        () => {
          console.log(`Local stack stopped; its data is kept in ${config.dataDir}.`);
          process.exit(0);
        },
        (error) => {
          console.error(error);
          process.exit(1);
        },
      );
    }
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const started = Date.now();
  try {
    await stack.start();
  } catch (error) {
    console.error(`\nThe local stack did not start: ${(error as Error).message}`);
    await stack.stop().catch(() => undefined);
    process.exit(1);
  }
  const { ports } = config;
  console.log(
    [
      '',
      `Local stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s (data: ${config.dataDir})`,
      `  Cart API        ${endpointOf(ports.api)}   (GET /health)`,
      `  Console         ${endpointOf(ports.api)}/console`,
      `  DynamoDB Local  ${endpointOf(ports.dynamodb)}   table ${config.resources.eventStoreTable}`,
      `  Kinesis         ${endpointOf(ports.kinesis)}   stream ${config.resources.eventsStream}`,
      `  S3              ${endpointOf(ports.s3)}   bucket ${config.resources.archiveBucket}`,
      `  Step Functions  ${endpointOf(ports.stepfunctions)}`,
      `Lambda handlers   ${lambdaBundlesDir ? `bundled (${lambdaBundlesDir})` : 'TypeScript sources (npm start -- --bundled runs the deployed bundles)'}`,
      `Everything listens on ${LOCAL_HOST}. Ctrl-C stops it; data is kept (npm start -- --fresh starts empty).`,
      flags.verbose ? '' : 'Only errors and warnings show from here on; npm start -- --verbose shows every component\'s activity.',
      '',
    ].join('\n'),
  );
}

void main();
