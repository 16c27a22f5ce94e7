import { CART_EVENT_TYPES } from '../domain/cart';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { archiveByHour, isArchiveEventKey } from '../application/archive-browsing';
import { inspectCart, type CartInspection } from '../application/cart-inspection';
import { StreamMarker, type MarkedStreamRecord } from '../application/stream-inspection';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SNSClient } from '@aws-sdk/client-sns';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { dynamoDbDocumentClient, dynamoDbStreamsClient, kinesisClient, s3Client, sfnClient, sqsClient } from '../adapters/aws-clients';
import { awsPipelineProbe, queueDepths } from '../adapters/pipeline-probe/aws-pipeline-probe';
import { signedCartApi } from '../adapters/pipeline-probe/signed-http';
import { checkAlarmDelivery, type AlarmDeliveryResult } from '../adapters/pipeline-probe/alarm-delivery-check';
import { AwsStackError, AwsUsageError, resolveAwsStack, takeAwsFlags, type AwsStack } from './aws-stack';
import { DynamoDbEventStore } from '../adapters/dynamodb/event-store';
import { generationalReadModels } from '../adapters/dynamodb/read-models';
import { KinesisStreamTail } from '../adapters/kinesis/stream-tail';
import { S3ArchiveObjects } from '../adapters/s3/replay-archive';
import { redriveDeadLetters } from '../application/dead-letter-redrive';
import { hopLine, PIPELINE_HOPS, verifyPipeline } from '../application/pipeline-verification';
import { PROBE_CART_ID_PREFIX } from '../domain/cart';
import { localPipelineProbe } from '../local/verify/local-pipeline-probe';
import { JsonLinesDeadLetterInbox } from '../adapters/dead-letters/json-lines-dead-letter-inbox';
import { handlerEnvironment, loadLocalConfig, localDeadLetterFile, type LocalConfig } from '../local/config';
import { portInForce, portsInForce } from './ports';
import { localRedrivers } from '../local/console/redrivers';

/** Type names are padded to the longest in the domain's list, so columns align for every type, a new one included. */
const TYPE_WIDTH = Math.max(...CART_EVENT_TYPES.map((type) => type.length));

const USAGE = `usage: cdc-cart <command> [options]

Looks inside the local stack (npm start): the same read side as the console at http://127.0.0.1:${portInForce('api')}/console.

Commands:
  events [--follow] [--cart ID] [--json]   the Kinesis stream from its oldest record, one line per event;
                                           duplicates and redeliveries marked; --follow waits for new ones
  cart ID [--json]                         a cart's stored events beside its cart-summary read model
  archive ls [--json]                      the S3 archive's objects by arrival hour
  archive cat KEY                          one archive object (JSON Lines)
  replay ...                               start a replay and follow it (= npm run replay --; see cdc-cart replay --help)
  backfill ...                             start a backfill and follow it (= npm run backfill --)
  dead-letters ...                         list the dead letters (= npm run dead-letters --)
  verify [--json] [--timeout SECONDS]      send one probe cart through every hop and print one line per hop,
                                           ok|FAIL <hop> <ms> <detail>; exit 0 when every hop is ok, 1 otherwise
  verify --aws --stage NAME --alarm-check  also prove that an alarm reaches a subscriber of the alarm topic
  dead-letters redrive ID... | --all       send letters back (CDC: enrichment + Pipe target; consumer: its
                                           consumer); a letter is removed only once its redrive succeeded

Options:
  --aws --stage NAME [--region REGION]     verify, events, cart, archive and dead-letters on a deployed stage: its
                                           resources from the stack CartEvents-NAME's outputs, the SDK's default
                                           credential chain, API requests SigV4-signed
  -h, --help                               this text (cdc-cart <command> --help for a command)

Ports and the data folder come from API_PORT, KINESIS_PORT, DYNAMODB_PORT, S3_PORT, STEPFUNCTIONS_PORT and
LOCAL_DATA_DIR, as for npm start. In force now: ${portsInForce()}.
Exit codes: 0 ok, 1 failure, 2 bad usage.`;

const DELEGATED: Record<string, string> = { replay: 'replay.ts', backfill: 'backfill.ts', 'dead-letters': 'dead-letters.ts' };

class UsageError extends Error {
  override readonly name = 'UsageError';
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === 'dead-letters' && rest[0] === 'redrive') return redrive(useLocalStack(), rest.slice(1));
  if (command === 'dead-letters' && rest.includes('--aws')) return awsDeadLetters(rest);
  const delegated = DELEGATED[command];
  if (delegated) {
    // The existing command line tools, unchanged: they read process.argv and run on import.
    process.argv = [process.argv[0]!, resolve(__dirname, delegated), ...rest];
    require(resolve(__dirname, delegated)); // eslint-disable-line @typescript-eslint/no-require-imports
    return -1;
  }
  if (!['events', 'cart', 'archive', 'verify'].includes(command)) throw new UsageError(`unknown command "${command}"`);
  const { aws, rest: args } = takeAwsFlags(rest);
  const target: Target = aws ? await awsTarget(aws.stage, aws.region) : { where: 'local', config: useLocalStack() };
  const resources: Resources = target.where === 'local' ? target.config.resources : target.stack;
  switch (command) {
    case 'events':
      return events(resources, args);
    case 'cart':
      return cart(resources, args);
    case 'archive':
      return archive(resources, args);
    default:
      return verify(target, args);
  }
}

/** The resource names a command reads: the local stack's, or a deployed stage's (its stack outputs). */
type Resources = Record<'eventStoreTable' | 'eventsStream' | 'cartSummaryTable' | 'itemPopularityTable' | 'archiveBucket', string>;
type Target = { where: 'local'; config: LocalConfig } | { where: 'aws'; stack: AwsStack };

async function awsTarget(stage: string, region: string | undefined): Promise<Target> {
  const stack = await resolveAwsStack(stage, region);
  // The SDK clients of adapters/aws-clients.ts read the region from the environment, as the handlers do on AWS.
  process.env.AWS_REGION = stack.region;
  return { where: 'aws', stack };
}

/** Points the SDK clients at the local emulators, as the local stack points its handlers. */
function useLocalStack(): LocalConfig {
  const config = loadLocalConfig();
  for (const [name, value] of Object.entries(handlerEnvironment(config))) process.env[name] ??= value;
  return config;
}

async function events(resources: Resources, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { follow: { type: 'boolean', short: 'f' }, cart: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });
  if (values.help) return help('events [--follow] [--cart ID] [--json]', 'Prints the Kinesis stream from its oldest record, one line per event; Ctrl-C ends --follow.');
  const tail = new KinesisStreamTail(kinesisClient(), resources.eventsStream);
  const marker = new StreamMarker();
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  let count = 0;
  for await (const view of tail.records({ follow: values.follow ?? false, signal: abort.signal })) {
    const record = marker.mark(view);
    if (values.cart && record.partitionKey !== values.cart) continue;
    count += 1;
    process.stdout.write(`${values.json ? JSON.stringify(record) : eventLine(record)}\n`);
  }
  if (!values.json && !values.follow) process.stderr.write(`${count} event(s)${values.cart ? ` of cart ${values.cart}` : ''} in stream ${resources.eventsStream}\n`);
  return 0;
}

function eventLine(record: MarkedStreamRecord): string {
  const envelope = record.envelope;
  const marks = record.marks.length ? `  [${record.marks.join(', ')}]` : '';
  if (!envelope) return `${record.arrivedAt}  ${record.shardId}  ${record.partitionKey}  (not an event envelope)${marks}`;
  const data = JSON.stringify(envelope.data);
  return `${record.arrivedAt}  ${envelope.aggregateId}  v${String(envelope.version).padEnd(3)} ${envelope.type.padEnd(TYPE_WIDTH)} ${data === '{}' ? '' : data}  eventId=${envelope.eventId}${marks}`;
}

async function cart(resources: Resources, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) return help('cart ID [--json]', "Prints the cart's stored events (event store) beside its cart-summary read model.");
  if (positionals.length !== 1) throw new UsageError('cart takes one cart id');
  const documents = dynamoDbDocumentClient();
  // Through the generation pointer, as the read API reads them (a rebuild may have switched generations).
  const readModels = generationalReadModels(documents, { cartSummary: resources.cartSummaryTable, itemPopularity: resources.itemPopularityTable });
  const inspection = await inspectCart(new DynamoDbEventStore(documents, resources.eventStoreTable), readModels, positionals[0]!);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(inspection, null, 2)}\n`);
    return inspection.events.length === 0 ? 1 : 0;
  }
  if (inspection.events.length === 0 && !inspection.readModel) {
    process.stderr.write(`no cart ${inspection.cartId}: the event store has no events for it\n`);
    return 1;
  }
  process.stdout.write(`${cartSideBySide(inspection)}\n`);
  return 0;
}

/** Two columns: the stored events on the left, the read model on the right. */
export function cartSideBySide(cart: CartInspection): string {
  const left = ['STORED EVENTS (event store)', ...cart.events.map((e) => `v${e.version} ${e.type.padEnd(TYPE_WIDTH)} ${e.occurredAt.slice(11, 19)} ${JSON.stringify(e.data) === '{}' ? '' : JSON.stringify(e.data)}`)];
  const model = cart.readModel;
  const right = [
    'READ MODEL (cart-summary)',
    ...(model
      ? [`status    ${model.status}`, `version   ${model.version}`, `quantity  ${model.totalQuantity}`, 'items', ...model.items.map((item) => `  ${item.sku} x${item.quantity}`)]
      : ['(no row yet)']),
  ];
  const width = Math.min(70, Math.max(...left.map((line) => line.length)) + 3);
  const rows = Array.from({ length: Math.max(left.length, right.length) }, (_, i) => `${(left[i] ?? '').slice(0, width - 3).padEnd(width)}${right[i] ?? ''}`.trimEnd());
  const state = cart.readModelBehindBy === 0 && model ? 'read model caught up' : `read model ${model ? `${cart.readModelBehindBy} event(s) behind` : 'missing'}`;
  return [`cart ${cart.cartId}: stored version ${cart.storedVersion}, ${state}`, '', ...rows].join('\n');
}

async function archive(resources: Resources, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({ args: rest, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help || sub === '--help' || sub === '-h') return help('archive ls [--json] | archive cat KEY', 'Lists the archive objects by arrival hour, or prints one object.');
  const objects = new S3ArchiveObjects(s3Client(), resources.archiveBucket);
  if (sub === 'ls') {
    const hours = await archiveByHour(objects);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(hours, null, 2)}\n`);
      return 0;
    }
    if (hours.length === 0) process.stdout.write(`no archived events in bucket ${resources.archiveBucket} yet\n`);
    for (const hour of hours) {
      process.stdout.write(`${hour.hour ?? 'outside the layout'}  ${hour.objects.length} object(s), ${hour.bytes} bytes\n`);
      for (const object of hour.objects) process.stdout.write(`  ${object.key}  ${object.size}\n`);
    }
    return 0;
  }
  if (sub === 'cat') {
    const key = positionals[0];
    if (!key || positionals.length !== 1) throw new UsageError('archive cat takes one object key (see archive ls)');
    if (!isArchiveEventKey(key)) throw new UsageError(`"${key}" is not an archive object key (events/YYYY/MM/DD/HH/...)`);
    const text = await objects.read(key);
    if (text === undefined) {
      process.stderr.write(`no archive object ${key}\n`);
      return 1;
    }
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return 0;
  }
  throw new UsageError('archive takes "ls" or "cat KEY"');
}

/** Local default: the stack's archiver flushes within seconds; the whole run takes about 10 s when healthy. */
const LOCAL_VERIFY_TIMEOUT_SECONDS = 45;

/** On AWS: Firehose buffers up to 60 s (infra/constructs/event-archive.ts), then the dry-run replay runs a Map Run. */
const AWS_VERIFY_TIMEOUT_SECONDS = 600;

async function verify(target: Target, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, timeout: { type: 'string' }, 'alarm-check': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });
  if (values.help) {
    return help(
      'verify [--json] [--timeout SECONDS] [--aws --stage NAME [--region REGION] [--alarm-check]]',
      `Opens one probe cart (id prefix ${PROBE_CART_ID_PREFIX}, left out of top items) through the API and follows it through every hop:\n${PIPELINE_HOPS.join(', ')}.\nPrints ok|FAIL <hop> <ms> <detail> per hop, with the likely causes of a FAIL; exit 0 when all are ok, 1 otherwise.\n--timeout: how long the hops after api wait for the pipeline, from when the probe cart is written (default\n${LOCAL_VERIFY_TIMEOUT_SECONDS} s locally, ${AWS_VERIFY_TIMEOUT_SECONDS} s with --aws, enough for Firehose's buffer); the api hop retries on its own budget.\n--alarm-check (with --aws): meanwhile sets an OK alarm of the stage to ALARM and waits for its ALARM and OK\nnotifications on a temporary SQS queue subscribed to the alarm topic; one more line, ok|FAIL alarm-delivery.`,
    );
  }
  const timeoutSeconds = values.timeout === undefined ? (target.where === 'aws' ? AWS_VERIFY_TIMEOUT_SECONDS : LOCAL_VERIFY_TIMEOUT_SECONDS) : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || !/^\d+(\.\d+)?$/.test(values.timeout ?? '1')) throw new UsageError(`--timeout takes a number of seconds, got "${values.timeout}"`);
  if (values['alarm-check'] && target.where !== 'aws') throw new UsageError('--alarm-check goes with --aws --stage NAME: the local stack has no alarms');
  const probe =
    target.where === 'local'
      ? localPipelineProbe(target.config)
      : awsPipelineProbe(target.stack, signedCartApi(target.stack.apiUrl, target.stack.region, fromNodeProviderChain()), {
          documents: dynamoDbDocumentClient(),
          kinesis: kinesisClient(),
          s3: s3Client(),
          sfn: sfnClient(),
          sqs: sqsClient(),
          logs: new CloudWatchLogsClient({ region: target.stack.region }),
        });
  const deadline = Date.now() + timeoutSeconds * 1000;
  // The alarm check runs beside the hops (it waits on CloudWatch and SNS, they on the pipeline), within the same --timeout.
  const alarmCheck: Promise<AlarmDeliveryResult> | undefined =
    values['alarm-check'] && target.where === 'aws'
      ? checkAlarmDelivery(
          { cloudWatch: new CloudWatchClient({ region: target.stack.region }), sns: new SNSClient({ region: target.stack.region }), sqs: sqsClient() },
          { stage: target.stack.stage, topicArn: target.stack.alarmTopicArn, deadline },
        )
      : undefined;
  const report = await verifyPipeline(probe, { timeoutMs: timeoutSeconds * 1000, ...(values.json ? {} : { onHop: (hop) => process.stdout.write(`${hopLine(hop)}\n`) }) });
  const alarmDelivery = await alarmCheck;
  if (values.json) process.stdout.write(`${JSON.stringify(alarmDelivery ? { ...report, ok: report.ok && alarmDelivery.ok, alarmDelivery } : report, null, 2)}\n`);
  else {
    if (alarmDelivery) process.stdout.write(`${hopLine({ hop: 'alarm-delivery', ...alarmDelivery })}\n`);
    const failed = [...report.hops.filter((hop) => !hop.ok).map((hop) => hop.hop), ...(alarmDelivery && !alarmDelivery.ok ? ['alarm-delivery'] : [])];
    process.stderr.write(`${failed.length === 0 ? `every hop ok` : `FAIL: ${failed.join(', ')}`} (probe cart ${report.cartId ?? 'not opened'}, ${(report.ms / 1000).toFixed(1)} s, ${report.where})\n`);
  }
  return report.ok && (alarmDelivery?.ok ?? true) ? 0 : 1;
}

/**
 * The dead-letter queues of a deployed stage with their depths (approximate, as SQS counts). Their messages are not
 * received here: a receive hides a message from the next reader for its visibility timeout.
 */
async function awsDeadLetters(args: string[]): Promise<number> {
  const { aws, rest } = takeAwsFlags(args);
  const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });
  if (values.help) return help('dead-letters --aws --stage NAME [--region REGION] [--json]', "Lists the stage's dead-letter queues and how many messages each holds.");
  const stack = await resolveAwsStack(aws!.stage, aws!.region);
  process.env.AWS_REGION = stack.region;
  const depths = await queueDepths(sqsClient(), stack.deadLetterQueueUrls);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(Object.entries(stack.deadLetterQueueUrls).map(([name, url]) => ({ name, url, messages: depths[name] })), null, 2)}\n`);
    return 0;
  }
  for (const [name, url] of Object.entries(stack.deadLetterQueueUrls)) process.stdout.write(`${String(depths[name]).padStart(6)}  ${name.padEnd(24)} ${url}\n`);
  process.stdout.write(`read one: aws sqs receive-message --queue-url <url> --max-number-of-messages 10; what to do: docs/operating-on-aws.md#runbook\n`);
  return 0;
}

async function redrive(config: LocalConfig, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { all: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  if (values.help) return help('dead-letters redrive ID... | --all', 'Redrives dead letters by id (see dead-letters --json or the console), or all pending ones, oldest first.');
  const inbox = new JsonLinesDeadLetterInbox(localDeadLetterFile(config));
  if (values.all && positionals.length > 0) throw new UsageError('dead-letters redrive takes letter ids or --all, not both');
  if (!values.all && positionals.length === 0) {
    // Without ids: the pending letters and their ids, to choose from (docs/cli.md).
    const pending = await inbox.pending();
    process.stdout.write(`${pending.length} pending letter(s)${pending.length > 0 ? '; redrive some with: cdc-cart dead-letters redrive ID... (or --all)' : ''}\n`);
    for (const letter of pending) process.stdout.write(`  ${letter.id}  ${letter.failedAt}  ${letter.source}  ${letter.reason}\n`);
    return 0;
  }
  const kinesis = kinesisClient();
  const outcomes = await redriveDeadLetters(inbox, localRedrivers(config, kinesis, new KinesisStreamTail(kinesis, config.resources.eventsStream), dynamoDbStreamsClient()), values.all ? 'all' : positionals);
  for (const outcome of outcomes) process.stdout.write(`${outcome.redriven ? 'redriven' : 'kept    '}  ${outcome.id}  ${outcome.source}${outcome.reason ? `  ${outcome.reason}` : ''}\n`);
  const kept = outcomes.filter((outcome) => !outcome.redriven).length;
  process.stdout.write(`${outcomes.length - kept} letter(s) redriven, ${kept} kept\n`);
  return kept > 0 ? 1 : 0;
}

function help(usage: string, what: string): number {
  process.stdout.write(`usage: cdc-cart ${usage}\n\n${what}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (error: Error & { code?: string }) => {
    if (error instanceof AwsStackError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    if (error instanceof UsageError || error instanceof AwsUsageError || error.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    if (error.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(error.message)) || (error as { errors?: { code?: string }[] }).errors?.some((e) => e.code === 'ECONNREFUSED')) {
      process.stderr.write('error: the local stack does not answer; start it with npm start (ports from API_PORT, KINESIS_PORT, ...)\n');
    } else process.stderr.write(`error: ${error.name}: ${error.message}\n`);
    process.exitCode = 1;
  },
);
