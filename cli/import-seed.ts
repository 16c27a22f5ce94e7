import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { DynamoDbEventImport } from '../adapters/dynamodb/event-import';
import { CheckpointScopeMismatch, ImportCheckpointFile } from '../adapters/import-checkpoint-file';
import { checkSeedTable, DynamoDbSeedTableScan, SeedTableMismatch } from '../adapters/dynamodb/seed-table-scan';
import { dynamoDbDocumentClient } from '../adapters/aws-clients';
import { importSeedTable, type ImportProgress, type ImportSummary } from '../application/import-seed';
import { isSeedTableLayout, SEED_TABLE_LAYOUTS } from '../domain/cdc/seed-events';
import { endpointOf, loadLocalConfig, LOCAL_HOST, LOCAL_RESOURCE_NAMES } from '../local/config';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = `usage: npm run import-seed -- --table NAME --layout aggregate-item|event-per-item [--segments N] [--occurred-at ISO]

Copies a table of the seed (the blog series' Ruby code) into this event store: the same event ids and versions,
the seed's payloads lifted to today's events (ItemAdded gets a sku derived from item_name, quantity 1, and keeps
the name). Each event is written only if its version is free: a second run changes nothing and counts the events
as already imported; an interrupted run is resumed by running it again. Imported events flow through the CDC.
  --table NAME                  the seed table
  --layout aggregate-item       one item per cart (key Uuid) holding an Events list: the seed's first layout
  --layout event-per-item       one item per event (key AggregateUuid + Version): the seed's later layout
  --segments N                  parallel Scan segments, 1-64 (default 4)
  --occurred-at ISO             the time given to every imported event (default: when the run starts); the seed
                                stored none
  --checkpoint FILE             remember per segment how far the import got, and start from there when FILE exists
                                (same table, layout and --segments); without it a rerun scans the whole table again
                                and counts what is there as already imported

Where it runs:
  (default)                     the local DynamoDB of npm start, 127.0.0.1:$DYNAMODB_PORT (8000), into "${LOCAL_RESOURCE_NAMES.eventStoreTable}"
  --aws                         AWS, with the usual credential chain (AWS_PROFILE, AWS_REGION, ...)
  --stage NAME                  on AWS: into the event store "NAME-cart-events" (as infra/ deploys it)
  --event-store-table NAME      into this event store table, wherever it is
  --region REGION               AWS region (default: AWS_REGION)
  -h, --help                    this text

Exit status: 0 every item imported (or already there), 1 some items skipped (each reported with why) or the run
stopped, 2 bad arguments.

examples:
  npm run import-seed -- --table es_table --layout aggregate-item
  npm run import-seed -- --aws --stage prod --table es_table --layout aggregate-item --segments 16`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      table: { type: 'string' },
      layout: { type: 'string' },
      segments: { type: 'string' },
      'occurred-at': { type: 'string' },
      checkpoint: { type: 'string' },
      aws: { type: 'boolean' },
      stage: { type: 'string' },
      'event-store-table': { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.table) throw new UsageError('--table is required');
  if (!values.layout || !isSeedTableLayout(values.layout)) throw new UsageError(`--layout must be one of ${SEED_TABLE_LAYOUTS.join(', ')}`);
  const layout = values.layout;
  const segments = values.segments === undefined ? 4 : Number(values.segments);
  if (!/^\d+$/.test(values.segments ?? '4') || segments < 1 || segments > 64) throw new UsageError(`--segments must be a whole number from 1 to 64, got "${values.segments}"`);
  const occurredAt = values['occurred-at'] === undefined ? new Date() : new Date(values['occurred-at']);
  if (Number.isNaN(occurredAt.getTime())) throw new UsageError(`--occurred-at must be an ISO-8601 time, got "${values['occurred-at']}"`);
  if (values.aws && !values.stage && !values['event-store-table']) throw new UsageError('with --aws, name the event store: --stage NAME or --event-store-table NAME');

  const { client, where } = dynamoDb(values);
  const eventStoreTable = values['event-store-table'] ?? (values.stage ? `${values.stage}-cart-events` : LOCAL_RESOURCE_NAMES.eventStoreTable);
  let approximateItems: number;
  try {
    ({ approximateItems } = await checkSeedTable(client, values.table, layout));
  } catch (error) {
    if (error instanceof SeedTableMismatch) throw new UsageError(`${error.message} on ${where}`);
    throw error;
  }
  let checkpoint: ImportCheckpointFile | undefined;
  if (values.checkpoint) {
    try {
      checkpoint = await ImportCheckpointFile.open(values.checkpoint, { table: values.table, layout, segments });
    } catch (error) {
      if (error instanceof CheckpointScopeMismatch || error instanceof SyntaxError) throw new UsageError(`--checkpoint: ${error.message}`);
      throw error;
    }
  }
  const documents = dynamoDbDocumentClient(client);
  const out = process.stdout;
  out.write(`importing ${values.table} (${layout}, about ${approximateItems} items) into ${eventStoreTable} on ${where}, ${segments} segment(s)\n`);
  if (checkpoint) out.write(`checkpoint ${checkpoint.file}: ${checkpoint.finishedSegments()} of ${segments} segment(s) finished before\n`);

  const started = Date.now();
  let lastLine = 0;
  const showProgress = (progress: ImportProgress, final = false) => {
    const line = progressLine(progress, Date.now() - started);
    if (out.isTTY) out.write(`\r${line}\u001b[K${final ? '\n' : ''}`);
    else if (final || Date.now() - lastLine > 5_000) {
      out.write(`${line}\n`);
      lastLine = Date.now();
    }
  };
  const summary = await importSeedTable(new DynamoDbSeedTableScan(documents, values.table), new DynamoDbEventImport(documents, eventStoreTable), {
    layout,
    segments,
    occurredAt: occurredAt.toISOString(),
    ...(checkpoint ? { checkpoint } : {}),
    onProgress: (progress) => showProgress(progress),
    onSkipped: (item) => process.stderr.write(`${out.isTTY ? '\n' : ''}skipped ${item.key}: ${item.reason}\n`),
  });
  showProgress(summary, true);
  printSummary(summary, Date.now() - started);
  return summary.itemsSkipped > 0 ? 1 : 0;
}

function dynamoDb(options: { aws?: boolean; region?: string }): { client: DynamoDBClient; where: string } {
  if (options.aws) {
    // A long import meets throttling: more SDK retries (with its backoff) before a call gives up and stops the run.
    const client = new DynamoDBClient({ maxAttempts: 10, ...(options.region ? { region: options.region } : {}) });
    return { client, where: `AWS${options.region ? ` (${options.region})` : ''}` };
  }
  const port = loadLocalConfig().ports.dynamodb;
  const client = new DynamoDBClient({ endpoint: endpointOf(port), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  return { client, where: `local DynamoDB ${LOCAL_HOST}:${port}` };
}

export function progressLine(progress: ImportProgress, elapsedMs: number): string {
  const elapsed = `${Math.floor(elapsedMs / 60_000)}:${String(Math.floor(elapsedMs / 1000) % 60).padStart(2, '0')}`;
  const rate = progress.itemsScanned / Math.max(elapsedMs / 1000, 0.001);
  return (
    `segments ${progress.segmentsDone}/${progress.segments}, ${progress.itemsScanned} items (${rate.toFixed(1)}/s): ` +
    `${progress.eventsImported} events imported, ${progress.eventsAlreadyImported} already imported, ${progress.itemsSkipped} skipped  ${elapsed}`
  );
}

function printSummary(summary: ImportSummary, elapsedMs: number): void {
  const rows: [string, number | string][] = [
    ['items scanned', summary.itemsScanned],
    ['events imported', summary.eventsImported],
    ['already imported', summary.eventsAlreadyImported],
    ['carts imported', summary.cartsImported],
    ['items skipped', summary.itemsSkipped],
    ['segments done before', summary.segmentsFinishedBefore],
    ['seconds', (elapsedMs / 1000).toFixed(1)],
  ];
  process.stdout.write(`${summary.itemsSkipped > 0 ? 'done, with items skipped' : 'done'}:\n`);
  for (const [name, value] of rows) process.stdout.write(`  ${name.padEnd(20)} ${value}\n`);
  for (const item of summary.skipped) process.stdout.write(`  skipped ${item.key}: ${item.reason}\n`);
  for (const collision of summary.skuCollisions) {
    process.stdout.write(`  sku ${collision.sku} is derived from several item names (one cart line for them): ${collision.names.map((n) => JSON.stringify(n)).join(', ')}\n`);
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${error.message}\n${USAGE}\n`);
      process.exitCode = 2;
      return;
    }
    if ((error as { code?: string }).code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String(error.message)) || (error as { errors?: unknown[] }).errors?.some((e) => /ECONNREFUSED/.test(String(e)))) {
      process.stderr.write('error: no DynamoDB answers; start the local stack (npm start) or pass --aws\n');
    } else process.stderr.write(`error: ${error.name}: ${error.message}\n(the events written so far stay; run the same command again to resume)\n`);
    process.exitCode = 1;
  },
);
