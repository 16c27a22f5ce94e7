import { CHAOS_VARIABLE, describeChaos, parseChaos } from './chaos/chaos';
import { loadLocalConfig, endpointOf, LOCAL_HOST } from './config';
import { LocalStack } from './stack';

const USAGE = 'usage: npm start [-- --fresh] [--verbose] [--chaos[=FAULT=RATE,...]]';

/** `npm start [-- --fresh] [--verbose] [--chaos]`: the whole system on this machine, until Ctrl-C. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => !['--fresh', '--verbose', '--chaos'].includes(arg) && !arg.startsWith('--chaos='));
  if (unknown.length > 0) {
    console.error(`unknown argument(s): ${unknown.join(' ')}\n${USAGE}`);
    process.exit(2);
  }
  // --chaos alone: every fault at its default rate; --chaos=spec: as CHAOS (e.g. pipe-redelivery=0.5,archive-junk-line=1).
  const chaosArg = args.find((arg) => arg === '--chaos' || arg.startsWith('--chaos='));
  const chaosSpec = chaosArg === undefined ? process.env[CHAOS_VARIABLE] : chaosArg === '--chaos' ? 'all' : chaosArg.slice('--chaos='.length);
  let chaos: string;
  try {
    chaos = describeChaos(parseChaos(chaosSpec));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const verbose = args.includes('--verbose');
  const config = loadLocalConfig();
  const stack = new LocalStack(config, { fresh: args.includes('--fresh'), verbose, chaos });

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
      `Everything listens on ${LOCAL_HOST}. Ctrl-C stops it; data is kept (npm start -- --fresh starts empty).`,
      verbose ? '' : 'Only errors and warnings show from here on; npm start -- --verbose shows every component\'s activity.',
      '',
    ].join('\n'),
  );
}

void main();
