import { loadLocalConfig, endpointOf, LOCAL_HOST } from './config';
import { LocalStack } from './stack';

/** `npm start [-- --fresh] [--verbose]`: the whole system on this machine, until Ctrl-C. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== '--fresh' && arg !== '--verbose');
  if (unknown.length > 0) {
    console.error(`unknown argument(s): ${unknown.join(' ')}\nusage: npm start [-- --fresh] [--verbose]`);
    process.exit(2);
  }
  const config = loadLocalConfig();
  const stack = new LocalStack(config, { fresh: args.includes('--fresh'), verbose: args.includes('--verbose') });

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
      `Everything listens on ${LOCAL_HOST}. Ctrl-C stops it; data is kept (npm start -- --fresh starts empty).`,
      args.includes('--verbose') ? '' : 'Only errors and warnings show from here on; npm start -- --verbose shows every component\'s activity.',
      '',
    ].join('\n'),
  );
}

void main();
