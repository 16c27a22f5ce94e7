/**
 * Dollars per million cart commands on AWS: this design (one item per event, Pipe with a batching enrichment,
 * Kinesis on demand partitioned by cart, Firehose archive) side by side with the seed's (all of a cart's events in
 * one item, a stream-triggered Lambda doing one put_record per event under a single partition key, one S3 object
 * per archived event). `npm run cost` prints the tables that docs/operating-on-aws.md quotes.
 *
 * Only the costs that grow with traffic are modelled. Fixed costs per hour (Kinesis stream or shard hours, Pipes
 * polling an idle stream, KMS key, dashboard, alarms) are listed in FIXED_MONTHLY and left out of the per-command
 * figures. All quantities are estimates from the stated assumptions, not measurements on AWS.
 */

/** Public list prices, us-east-1, on-demand, in USD, as published in 2025 (check the pricing pages before relying on them). */
export const PRICES = {
  asOf: '2025 public list prices, us-east-1, no free tier, no savings plans',
  apiGatewayHttpPerMillionRequests: 1.0,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  lambdaX86PerGbSecond: 0.0000166667,
  dynamoDbPerMillionWriteRequestUnits: 0.625,
  dynamoDbPerMillionReadRequestUnits: 0.125,
  /** Stream read request units (GetRecords) by anything but a Lambda trigger; Lambda triggers read for free. */
  dynamoDbStreamsPerMillionReadRequests: 0.2,
  pipesPerMillionRequests: 0.4,
  kinesisOnDemandPerGbIngested: 0.08,
  kinesisOnDemandPerGbRetrieved: 0.04,
  kinesisProvisionedPerMillionPutPayloadUnits: 0.014,
  firehoseKinesisSourcePerGbIngested: 0.029,
  s3PutPerThousandRequests: 0.005,
  s3StandardPerGbMonth: 0.023,
  cloudWatchLogsPerGbIngested: 0.5,
  xrayPerMillionTracesRecorded: 5.0,
} as const;

export const FIXED_MONTHLY = [
  'Kinesis on-demand stream: $0.04 per stream-hour (~$29/month), whatever the traffic',
  'Kinesis retention beyond 24 h (default 7 days, kinesisRetentionHours): on demand about $0.10 per GB-month of data kept (~0.35 GB per million events held 6 more days: under $0.01); provisioned $0.02 per shard-hour (check the pricing page)',
  'Seed: one provisioned shard, $0.015 per shard-hour (~$11/month), capped at 1,000 records/s by its single partition key',
  'EventBridge Pipes polling an idle DynamoDB stream: ~4 GetRecords/s per stream shard (~$2/month per shard at $0.20 per million)',
  'KMS key of the alarm topic: $1/month; CloudWatch: dashboard $3/month, alarms $0.10 each per month',
  'Storage: event store ~0.25 GB per million events ($0.0625/month), archive ~0.35 GB per million events ($0.008/month)',
] as const;

/** What a million commands look like. Every command is a write that appends exactly one event. */
export const WORKLOAD = {
  commands: 1_000_000,
  /** Open, 6 adds, 1 remove, close: a cart's history when its last command runs. */
  commandsPerCart: 9,
  /** DynamoDB item of one event in this design (key, eventId, type, schemaVersion, occurredAt, data). */
  ourEventItemBytes: 250,
  /** One event in the seed's Events list (EventUuid, AggregateUuid, Name, Data, Version), and the item's own key. */
  seedEventBytes: 170,
  seedItemBaseBytes: 50,
  /** Envelope JSON on Kinesis and in the archive. */
  envelopeBytes: 350,
  /** Share of writes that carry an Idempotency-Key (each costs a put and an update in the idempotency table). */
  idempotencyKeyShare: 0.5,
  /** Average records per Pipe batch and per consumer batch at moderate load (1 s batching window). */
  pipeBatchFill: 10,
  consumerBatchFill: 20,
  /** Sustained rate, for Firehose objects (one per 60 s buffer below 8 MiB). */
  commandsPerSecond: 100,
  apiLambda: { memoryGb: 0.25, durationMs: 40 },
  enrichmentLambda: { memoryGb: 0.5, durationMsPerBatch: 30 },
  eventLogLambda: { memoryGb: 0.25, durationMsPerBatch: 20 },
  projectionsLambda: { memoryGb: 0.25, durationMsPerEvent: 15 },
  /** Seed: a Ruby Lambda on x86, one synchronous put_record per event, and one S3 PUT per archived event. */
  seedCdcLambda: { memoryGb: 0.128, durationMsPerEvent: 15 },
  seedArchiveLambda: { memoryGb: 0.128, durationMsPerEvent: 20 },
  /** CloudWatch Logs bytes: API access log line, Lambda START/END/REPORT lines per invocation, EMF line, event log line. */
  accessLogBytes: 350,
  platformLogBytesPerInvocation: 350,
  emfBytesPerInvocation: 400,
  eventLogLineBytes: 700,
  /** X-Ray default sampling: 1 request/s reservoir plus 5 %. */
  xraySampledShare: 0.06,
} as const;

export type Workload = typeof WORKLOAD;
type Prices = typeof PRICES;

export interface CostLine {
  readonly component: string;
  readonly ours?: number;
  readonly seed?: number;
  readonly note: string;
}

const GB = 1024 ** 3;
const perMillion = (count: number, pricePerMillion: number) => (count / 1_000_000) * pricePerMillion;
const lambdaCost = (invocations: number, gbSeconds: number, perGbSecond: number, prices: Prices) =>
  perMillion(invocations, prices.lambdaPerMillionRequests) + gbSeconds * perGbSecond;

/** Request units of a read (4 KB, strongly consistent) and of a write (1 KB) of `bytes`. */
export const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

export const DYNAMODB_ITEM_LIMIT_BYTES = 400 * 1024;

/** DynamoDB request units of one command on a cart that already holds `history` events. */
export function commandUnits(design: 'ours' | 'seed', history: number, w: Workload = WORKLOAD): { read: number; write: number } | undefined {
  if (design === 'ours') {
    // Query of the whole history (no snapshots), then one conditional Put of the new event's item.
    return { read: history === 0 ? 1 : readUnits(history * w.ourEventItemBytes), write: writeUnits(w.ourEventItemBytes) };
  }
  // GetItem of the aggregate, then a write of the whole item: charged on the larger of old and new size.
  const after = w.seedItemBaseBytes + (history + 1) * w.seedEventBytes;
  if (after > DYNAMODB_ITEM_LIMIT_BYTES) return undefined;
  return { read: readUnits(w.seedItemBaseBytes + history * w.seedEventBytes), write: writeUnits(after) };
}

/** Average DynamoDB units per command over a cart's life of `commandsPerCart` commands. */
function averageUnits(design: 'ours' | 'seed', w: Workload): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (let history = 0; history < w.commandsPerCart; history++) {
    const units = commandUnits(design, history, w)!;
    read += units.read;
    write += units.write;
  }
  return { read: read / w.commandsPerCart, write: write / w.commandsPerCart };
}

export function costPerMillionCommands(w: Workload = WORKLOAD, p: Prices = PRICES): CostLine[] {
  const n = w.commands;
  const events = n;
  const ours = averageUnits('ours', w);
  const seed = averageUnits('seed', w);
  const pipeBatches = events / w.pipeBatchFill;
  const consumerBatches = events / w.consumerBatchFill;
  const envelopeGb = (events * w.envelopeBytes) / GB;
  const kinesisIngestGb = (events * Math.ceil(w.envelopeBytes / 1024) * 1024) / GB;
  const firehoseGb = (events * Math.ceil(w.envelopeBytes / 5120) * 5120) / GB;
  const firehoseObjects = n / w.commandsPerSecond / 60;
  const apiLambdaGbS = n * (w.apiLambda.durationMs / 1000) * w.apiLambda.memoryGb;
  const idempotencyWrites = n * w.idempotencyKeyShare * 2;

  const ourLogBytes =
    n * (w.accessLogBytes + w.platformLogBytesPerInvocation + w.emfBytesPerInvocation) +
    pipeBatches * (w.platformLogBytesPerInvocation + w.emfBytesPerInvocation) +
    2 * consumerBatches * (w.platformLogBytesPerInvocation + w.emfBytesPerInvocation) +
    events * w.eventLogLineBytes;
  // Seed: the same API, a CDC Lambda and an archive Lambda per batch, no metrics or event log.
  const seedLogBytes = n * (w.accessLogBytes + w.platformLogBytesPerInvocation) + 2 * pipeBatches * w.platformLogBytesPerInvocation;

  return [
    {
      component: 'API Gateway HTTP API',
      ours: perMillion(n, p.apiGatewayHttpPerMillionRequests),
      seed: perMillion(n, p.apiGatewayHttpPerMillionRequests),
      note: '1 request per command (same front door in both)',
    },
    {
      component: 'Cart API Lambda',
      ours: lambdaCost(n, apiLambdaGbS, p.lambdaArmPerGbSecond, p),
      seed: lambdaCost(n, apiLambdaGbS, p.lambdaX86PerGbSecond, p),
      note: `${w.apiLambda.durationMs} ms at ${w.apiLambda.memoryGb * 1024} MB; ours on ARM64, the seed on x86`,
    },
    {
      component: 'DynamoDB writes (event store)',
      ours: perMillion(n * ours.write, p.dynamoDbPerMillionWriteRequestUnits),
      seed: perMillion(n * seed.write, p.dynamoDbPerMillionWriteRequestUnits),
      note: `WRU per command: ours ${ours.write.toFixed(2)} (one ${w.ourEventItemBytes} B item), seed ${seed.write.toFixed(2)} (the whole cart item, average over a ${w.commandsPerCart}-command cart)`,
    },
    {
      component: 'DynamoDB reads (load the cart)',
      ours: perMillion(n * ours.read, p.dynamoDbPerMillionReadRequestUnits),
      seed: perMillion(n * seed.read, p.dynamoDbPerMillionReadRequestUnits),
      note: `RRU per command (strongly consistent): ours ${ours.read.toFixed(2)} (Query), seed ${seed.read.toFixed(2)} (GetItem)`,
    },
    {
      component: 'DynamoDB idempotency records',
      ours: perMillion(idempotencyWrites, p.dynamoDbPerMillionWriteRequestUnits),
      note: `${w.idempotencyKeyShare * 100} % of commands with Idempotency-Key: put + update each (the seed had none)`,
    },
    {
      component: 'DynamoDB Streams reads',
      ours: perMillion(pipeBatches, p.dynamoDbStreamsPerMillionReadRequests),
      seed: 0,
      note: `Pipes pays per GetRecords (1 per batch of ${w.pipeBatchFill}); a Lambda trigger (seed) reads for free`,
    },
    {
      component: 'EventBridge Pipes requests',
      ours: perMillion(events, p.pipesPerMillionRequests),
      note: 'counted per event after the INSERT filter (conservative: a batch may be billed per 64 KB instead)',
    },
    {
      component: 'CDC Lambda',
      ours: lambdaCost(pipeBatches, pipeBatches * (w.enrichmentLambda.durationMsPerBatch / 1000) * w.enrichmentLambda.memoryGb, p.lambdaArmPerGbSecond, p),
      seed: lambdaCost(pipeBatches, events * (w.seedCdcLambda.durationMsPerEvent / 1000) * w.seedCdcLambda.memoryGb, p.lambdaX86PerGbSecond, p),
      note: `ours: enrichment, one invocation per batch; seed: one synchronous put_record per event (${w.seedCdcLambda.durationMsPerEvent} ms each)`,
    },
    {
      component: 'Kinesis',
      ours: kinesisIngestGb * p.kinesisOnDemandPerGbIngested + 3 * envelopeGb * p.kinesisOnDemandPerGbRetrieved,
      seed: perMillion(events, p.kinesisProvisionedPerMillionPutPayloadUnits),
      note: 'ours: on demand, ingest rounded to 1 KB per record, 3 readers (2 consumers + Firehose); seed: 1 provisioned shard, PUT payload units',
    },
    {
      component: 'Consumer Lambdas (event log, projections)',
      ours:
        lambdaCost(consumerBatches, consumerBatches * (w.eventLogLambda.durationMsPerBatch / 1000) * w.eventLogLambda.memoryGb, p.lambdaArmPerGbSecond, p) +
        lambdaCost(consumerBatches, events * (w.projectionsLambda.durationMsPerEvent / 1000) * w.projectionsLambda.memoryGb, p.lambdaArmPerGbSecond, p),
      note: `batches of ${w.consumerBatchFill}; the seed had no read models`,
    },
    {
      component: 'DynamoDB projections',
      ours: perMillion(events * 5, p.dynamoDbPerMillionWriteRequestUnits) + perMillion(events * 2, p.dynamoDbPerMillionReadRequestUnits),
      note: 'per event: cart-summary Put (1 WRU) + item-popularity transaction of 2 updates (4 WRU) + 2 cursor reads',
    },
    {
      component: 'Archive ingestion',
      ours: firehoseGb * p.firehoseKinesisSourcePerGbIngested,
      seed: lambdaCost(pipeBatches, events * (w.seedArchiveLambda.durationMsPerEvent / 1000) * w.seedArchiveLambda.memoryGb, p.lambdaX86PerGbSecond, p),
      note: 'ours: Firehose from Kinesis, each record rounded up to 5 KB; seed: a Lambda writing one object per event',
    },
    {
      component: 'S3 PUT requests (archive)',
      ours: (firehoseObjects / 1000) * p.s3PutPerThousandRequests,
      seed: (events / 1000) * p.s3PutPerThousandRequests,
      note: `ours: one JSON Lines object per 60 s buffer at ${w.commandsPerSecond} commands/s; seed: one object per event`,
    },
    {
      component: 'CloudWatch Logs ingestion',
      ours: (ourLogBytes / GB) * p.cloudWatchLogsPerGbIngested,
      seed: (seedLogBytes / GB) * p.cloudWatchLogsPerGbIngested,
      note: 'access logs, Lambda platform lines, EMF metrics, one event-log line per event (ours)',
    },
    {
      component: 'X-Ray traces',
      ours: perMillion(n * w.xraySampledShare, p.xrayPerMillionTracesRecorded),
      note: 'default sampling (1/s + 5 %) on the API path; the seed had no tracing',
    },
  ];
}

/** DynamoDB dollars per million commands on carts that already hold `history` events. */
export function dynamoDbCostAtHistory(history: number, w: Workload = WORKLOAD, p: Prices = PRICES): { ours: number; seed: number | undefined } {
  const cost = (units: { read: number; write: number }) =>
    perMillion(w.commands * units.write, p.dynamoDbPerMillionWriteRequestUnits) + perMillion(w.commands * units.read, p.dynamoDbPerMillionReadRequestUnits);
  const seed = commandUnits('seed', history, w);
  return { ours: cost(commandUnits('ours', history, w)!), seed: seed && cost(seed) };
}

const money = (value: number | undefined) => (value === undefined ? '—' : `$${value.toFixed(value < 0.1 ? 4 : 2)}`);

export function renderCostTables(w: Workload = WORKLOAD, p: Prices = PRICES): string {
  const lines = costPerMillionCommands(w, p);
  const total = (key: 'ours' | 'seed', rows = lines) => rows.reduce((sum, line) => sum + (line[key] ?? 0), 0);
  const comparable = lines.filter((line) => line.ours !== undefined && line.seed !== undefined);
  const out: string[] = [];
  out.push(`Dollars per ${w.commands.toLocaleString('en-US')} cart commands (${p.asOf}).`, '');
  out.push('| Component | This design | Seed design | How it is counted |', '|---|---:|---:|---|');
  for (const line of lines) out.push(`| ${line.component} | ${money(line.ours)} | ${money(line.seed)} | ${line.note} |`);
  out.push(`| **Total, components both have** | **${money(total('ours', comparable))}** | **${money(total('seed', comparable))}** | |`);
  out.push(`| **Total** | **${money(total('ours'))}** | **${money(total('seed'))}** | the seed has no read models, idempotency or tracing |`, '');
  out.push('DynamoDB (event store reads + writes) per million commands, on carts that already hold N events:', '');
  out.push('| Events already in the cart | This design | Seed design |', '|---:|---:|---:|');
  for (const history of [0, 10, 100, 1_000, 2_000, 10_000]) {
    const cost = dynamoDbCostAtHistory(history, w, p);
    out.push(`| ${history.toLocaleString('en-US')} | ${money(cost.ours)} | ${cost.seed === undefined ? 'impossible (item > 400 KB)' : money(cost.seed)} |`);
  }
  out.push('', 'Writes stay at 1 WRU per event in this design; its Query grows with history (4 KB per RRU, 5x cheaper per unit than');
  out.push('a write). The seed rewrites the whole item (1 KB per WRU) on every command and stops at the 400 KB item limit.');
  out.push('', 'Fixed monthly costs, not in the figures above:', ...FIXED_MONTHLY.map((item) => `- ${item}`));
  return out.join('\n');
}

if (require.main === module) {
  console.log(renderCostTables());
}
