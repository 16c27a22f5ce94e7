import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CANARY_INTERVAL_VARIABLE, parseCanaryInterval } from './canary/canary-loop';
import { CHAOS_VARIABLE, describeChaos, parseChaos } from './chaos/chaos';
import { loadLocalConfig, endpointOf, LOCAL_HOST } from './config';
import { bundleLambdas } from './lambda/bundle';
import { LocalStack } from './stack';

/** Where `--bundled` puts the bundles (rebuilt on every start; .local/ is not committed). */
const LAMBDA_BUNDLES_DIR = '.local/lambda-bundles';

const USAGE = 'usage: npm start [-- [--fresh] [--verbose] [--bundled] [--chaos[=FAULT=RATE,...]] [--canary-interval SECONDS|off]]';

interface StartFlags {
  readonly fresh: boolean;
  readonly verbose: boolean;
  readonly bundled: boolean;
  /** The chaos spec as the stack takes it (`off`, `all`, or `fault=rate,...`). */
  readonly chaos: string;
  /** Seconds between canary runs; 0: off. */
  readonly canaryIntervalSeconds: number;
}

/** The command line, in one place. */
function parseFlags(argv: string[]): StartFlags {
  try {
    const { values } = parseArgs({
      // --chaos alone means every fault at its default rate; --chaos=spec is read as the CHAOS variable is.
      args: argv.map((arg) => (arg === '--chaos' ? '--chaos=all' : arg)),
      options: {
        // Wipe the data folder first.
        fresh: { type: 'boolean', default: false },
        // Also show what the components print on stdout (their activity), not only their errors and warnings.
        verbose: { type: 'boolean', default: false },
        // Run the handlers from the bundles `cdk deploy` ships (same esbuild options) instead of the sources.
        bundled: { type: 'boolean', default: false },
        // Inject AWS's documented delivery faults (e.g. pipe-redelivery=0.5,archive-junk-line=1).
        chaos: { type: 'string' },
        // Seconds between runs of the pipeline canary (60 by default; 0 or off: none).
        'canary-interval': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    const chaos = describeChaos(parseChaos(values.chaos ?? process.env[CHAOS_VARIABLE]));
    const canaryIntervalSeconds = parseCanaryInterval(values['canary-interval'] ?? process.env[CANARY_INTERVAL_VARIABLE]);
    return { fresh: values.fresh, verbose: values.verbose, bundled: values.bundled, chaos, canaryIntervalSeconds };
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

/** `npm start [-- --fresh] [--verbose] [--bundled] [--chaos] [--canary-interval SECONDS|off]`: the whole system on this machine, until Ctrl-C. */
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
  const { chaos } = flags;
  const stack = new LocalStack(config, { fresh: flags.fresh, verbose: flags.verbose, chaos, canaryIntervalSeconds: flags.canaryIntervalSeconds, ...(lambdaBundlesDir ? { lambdaBundlesDir } : {}) });

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
      `  Chaos           ${chaos === 'off' ? 'off (npm start -- --chaos injects AWS delivery faults)' : chaos}`,
      `  Canary          ${flags.canaryIntervalSeconds === 0 ? 'off (npm start -- --canary-interval 60 runs it)' : `every ${flags.canaryIntervalSeconds} s, last run in the console's Pipeline view (--canary-interval SECONDS|off)`}`,
      `  Lambda handlers ${lambdaBundlesDir ? `bundled (${lambdaBundlesDir})` : 'TypeScript sources (npm start -- --bundled runs the deployed bundles)'}`,
      // The Node.js parts bind LOCAL_HOST only; DynamoDB Local's Jetty has no host option (docs/local-stack.md#binding).
      `Served on ${LOCAL_HOST} (DynamoDB Local's Java server also answers on other interfaces: keep port ${ports.dynamodb} closed).`,
      'Ctrl-C stops it; data is kept (npm start -- --fresh starts empty).',
      flags.verbose ? '' : 'Only errors and warnings show from here on; npm start -- --verbose shows every component\'s activity.',
      '',
    ].join('\n'),
  );
}

void main();
