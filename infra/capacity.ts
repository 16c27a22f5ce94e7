import { CONSUMER_NAMES, KINESIS_CONSUMERS, MAX_PARALLELIZATION_FACTOR, type ConsumerName } from '../lambdas/consumers';
import { parallelizationFactorKey } from './config';
import { commandUnits, costPerMillionCommands, WORKLOAD, writeUnits } from './cost-model';

/**
 * The capacity plan of the deployed design at a given load: per component, the units it needs, the utilisation of
 * each documented limit, the first limit that binds, the CDK context to set, and the monthly cost (from
 * infra/cost-model.ts). Pure computation; `npm run capacity` (cli/capacity.ts) prints it. Every AWS figure is in
 * AWS_QUOTAS with the page it comes from (docs/scaling.md cites them); every per-record cost of our own code comes
 * from bench/results.json (MeasuredCosts), or from the cost model's stated assumption when the bench has none.
 */

/** One documented AWS figure. */
export interface Quota {
  readonly value: number;
  readonly unit: string;
  readonly adjustable: boolean;
  /** The AWS documentation page (and section) that states it. */
  readonly source: string;
}

export const AWS_QUOTAS = {
  dynamoDbPartitionWcu: { value: 1_000, unit: 'WCU/s per partition', adjustable: false, source: 'DynamoDB developer guide, "Understanding DynamoDB warm throughput" (each partition is limited to 1,000 write units/s and 3,000 read units/s); "Key range throughput exceeded (hot partitions)"' },
  dynamoDbPartitionRcu: { value: 3_000, unit: 'RCU/s per partition', adjustable: false, source: 'DynamoDB developer guide, "Understanding DynamoDB warm throughput" (3,000 read units/s per partition)' },
  dynamoDbOnDemandTableWru: { value: 40_000, unit: 'write request units/s per on-demand table', adjustable: true, source: 'DynamoDB developer guide, "Service, account, and table quotas": per-table throughput, on-demand, 40,000 read and 40,000 write request units (adjustable)' },
  dynamoDbOnDemandTableRru: { value: 40_000, unit: 'read request units/s per on-demand table', adjustable: true, source: 'DynamoDB developer guide, "Service, account, and table quotas": per-table throughput, on-demand' },
  dynamoDbStreamReadersPerShard: { value: 2, unit: 'simultaneous readers per stream shard', adjustable: false, source: 'DynamoDB developer guide, "Change data capture for DynamoDB Streams": no more than two processes should read from the same stream shard at the same time' },
  kinesisShardWriteRecords: { value: 1_000, unit: 'records/s written per shard', adjustable: false, source: 'Kinesis Data Streams developer guide, "Create and manage Kinesis data streams": a shard supports 1 MB/s and 1,000 records/s for writes and 2 MB/s for reads, in both capacity modes' },
  kinesisShardWriteMiB: { value: 1, unit: 'MiB/s written per shard', adjustable: false, source: 'Kinesis Data Streams developer guide, "Create and manage Kinesis data streams" (1 MB/s write per shard)' },
  kinesisShardReadMiB: { value: 2, unit: 'MiB/s read per shard, shared by all GetRecords consumers', adjustable: false, source: 'Kinesis Data Streams developer guide, "Create and manage Kinesis data streams" (2 MB/s read per shard); "Quotas and limits" (GetRecords: 5 transactions/s per shard)' },
  kinesisShardGetRecordsTps: { value: 5, unit: 'GetRecords calls/s per shard', adjustable: false, source: 'Kinesis Data Streams developer guide, "Quotas and limits": GetRecords 5 transactions per second per shard' },
  kinesisOnDemandStreamWriteMiB: { value: 200, unit: 'MiB/s written per on-demand stream', adjustable: true, source: 'Kinesis Data Streams developer guide, "Choose the data stream capacity mode": on-demand write up to 200 MiB/s and 200,000 records/s per stream (new streams start at 4 MiB/s, 4,000 records/s and adapt to up to double the previous peak)' },
  kinesisOnDemandStreamWriteRecords: { value: 200_000, unit: 'records/s written per on-demand stream', adjustable: true, source: 'Kinesis Data Streams developer guide, "Choose the data stream capacity mode"' },
  kinesisOnDemandStartRecords: { value: 4_000, unit: 'records/s a new on-demand stream takes at once', adjustable: false, source: 'Kinesis Data Streams developer guide, "Choose the data stream capacity mode" (4 MiB/s and 4,000 records/s at creation, then up to double the previous peak within 15 minutes)' },
  kinesisProvisionedShardsPerAccount: { value: 500, unit: 'shards per account in us-east-1 (200 in most other Regions)', adjustable: true, source: 'Kinesis Data Streams developer guide, "Quotas and limits": shard quota per account (500 in us-east-1, us-west-2, eu-west-1; 200 elsewhere)' },
  lambdaParallelizationFactor: { value: MAX_PARALLELIZATION_FACTOR, unit: 'concurrent batches per shard', adjustable: false, source: 'Lambda developer guide, "Using Lambda with Kinesis" (ParallelizationFactor 1-10; order kept per partition key); EventBridge Pipes, PipeSourceDynamoDBStreamParameters.ParallelizationFactor 1-10' },
  lambdaAccountConcurrency: { value: 1_000, unit: 'concurrent executions per Region', adjustable: true, source: 'Lambda developer guide, "Lambda quotas": concurrent executions 1,000 (can be increased)' },
  apiGatewayAccountRps: { value: 10_000, unit: 'requests/s per account and Region (burst 5,000)', adjustable: true, source: 'API Gateway developer guide, "Amazon API Gateway quotas": throttle quota per account, per Region across HTTP, REST and WebSocket APIs, 10,000 requests/s (adjustable)' },
  firehoseKinesisSource: { value: Number.POSITIVE_INFINITY, unit: 'no Firehose throughput quota with a Kinesis source (bound by the stream\u2019s shard reads)', adjustable: false, source: 'Amazon Data Firehose developer guide, "Quota": when Kinesis Data Streams is the source, the Direct PUT throughput quota does not apply; Firehose reads each shard as a GetRecords consumer' },
  stepFunctionsDistributedMapChildren: { value: 10_000, unit: 'parallel child executions of a Distributed Map', adjustable: false, source: 'Step Functions developer guide, "Using Map state in Distributed mode": up to 10,000 parallel child workflow executions' },
} as const satisfies Record<string, Quota>;

export type QuotaName = keyof typeof AWS_QUOTAS;

/** Per-record costs of our own code, each with where it came from. */
export interface MeasuredCosts {
  /** Enrichment µs per stream record (one event per record). */
  readonly enrichmentMicrosPerRecord: Measured;
  /** Projections events/s one consumer invocation sustains (batches of 100). */
  readonly projectionEventsPerSecond: Measured;
  /** Event log events/s one invocation sustains. */
  readonly eventLogEventsPerSecond: Measured;
  /** Replay events/s one Map worker sustains into the projections. */
  readonly replayEventsPerSecondPerWorker: Measured;
}

export interface Measured {
  readonly value: number;
  /** 'bench/results.json: <entry> / <ratio>' or 'model assumption: ...'. */
  readonly source: string;
}

/** Stated assumptions for when bench/results.json has no figure (infra/cost-model.ts WORKLOAD). */
export const ASSUMED_COSTS: MeasuredCosts = {
  enrichmentMicrosPerRecord: { value: (WORKLOAD.enrichmentLambda.durationMsPerBatch * 1000) / WORKLOAD.pipeBatchFill, source: 'model assumption: cost-model WORKLOAD.enrichmentLambda' },
  projectionEventsPerSecond: { value: 1000 / WORKLOAD.projectionsLambda.durationMsPerEvent, source: 'model assumption: cost-model WORKLOAD.projectionsLambda' },
  eventLogEventsPerSecond: { value: (WORKLOAD.consumerBatchFill * 1000) / WORKLOAD.eventLogLambda.durationMsPerBatch, source: 'model assumption: cost-model WORKLOAD.eventLogLambda' },
  replayEventsPerSecondPerWorker: { value: 1_000, source: 'model assumption' },
};

export interface CapacityInput {
  readonly commandsPerSecond: number;
  /** Events each command appends (1 for every command of this cart today). */
  readonly eventsPerCommand?: number;
  /** Share of all commands that go to ONE cart (0-1). */
  readonly hotCartShare?: number;
  readonly costs?: MeasuredCosts;
}

export interface LimitUse {
  readonly component: string;
  readonly limit: string;
  readonly used: number;
  readonly available: number;
  readonly unit: string;
  /** used / available. */
  readonly utilisation: number;
  /** available - used, in the limit's unit. */
  readonly headroom: number;
  /** 'AWS quota (adjustable)', 'AWS limit (hard)', or 'this plan's setting'. */
  readonly kind: string;
  readonly source: string;
}

export interface ComponentPlan {
  readonly component: string;
  readonly units: Record<string, number>;
  readonly notes: string[];
}

export interface CapacityPlan {
  readonly input: Required<Omit<CapacityInput, 'costs'>>;
  readonly components: ComponentPlan[];
  readonly limits: LimitUse[];
  /** The live-path limit with the highest utilisation (the first to bind as load grows), and whether it binds now. */
  readonly firstBinding: LimitUse & { readonly bindsNow: boolean };
  /** CDK context values for this load (cdk.json or `-c key=value`). */
  readonly context: Record<string, number>;
  readonly monthlyCostUsd: { readonly total: number; readonly perMillionCommands: number; readonly fixed: number; readonly note: string };
  readonly costSources: Record<keyof MeasuredCosts, string>;
}

/** Utilisation the plan sizes for: a margin for bursts and uneven hashing of keys over shards. */
export const TARGET_UTILISATION = 0.7;
const SECONDS_PER_MONTH = 30 * 24 * 3600;
const MIB = 1024 * 1024;
/** Readers of each events stream shard with GetRecords: the two consumer mappings and Firehose. */
const STREAM_READERS = CONSUMER_NAMES.length + 1;
/** Kinesis on-demand: $0.04 per stream-hour (infra/cost-model.ts FIXED_MONTHLY); provisioned: $0.015 per shard-hour. */
const ON_DEMAND_STREAM_MONTHLY = 0.04 * 24 * 30;
const PROVISIONED_SHARD_MONTHLY = 0.015 * 24 * 30;
/** Lines of the cost model that scale with events rather than with commands. */
const PER_COMMAND_COST_LINES = new Set(['API Gateway HTTP API', 'Cart API Lambda', 'DynamoDB reads (load the cart)', 'DynamoDB idempotency records']);
const REPLAY_MAP_CONCURRENCY = 16; // statemachines/replay.asl.json MaxConcurrency

export function capacityPlan(input: CapacityInput): CapacityPlan {
  const rate = input.commandsPerSecond;
  const eventsPerCommand = input.eventsPerCommand ?? 1;
  const hotCartShare = input.hotCartShare ?? 0;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error('commandsPerSecond must be a positive number');
  if (!Number.isInteger(eventsPerCommand) || eventsPerCommand < 1 || eventsPerCommand > 100) throw new Error('eventsPerCommand must be an integer from 1 to 100 (one TransactWriteItems)');
  if (!(hotCartShare >= 0 && hotCartShare <= 1)) throw new Error('hotCartShare must be between 0 and 1');
  const costs = input.costs ?? ASSUMED_COSTS;
  const events = rate * eventsPerCommand;
  const limits: LimitUse[] = [];
  const components: ComponentPlan[] = [];
  const use = (component: string, limit: string, used: number, quota: Quota | { value: number; unit: string; kind: string; source: string }) => {
    const kind = 'kind' in quota ? quota.kind : quota.adjustable ? 'AWS quota (adjustable)' : 'AWS limit (hard)';
    limits.push({ component, limit, used, available: quota.value, unit: quota.unit, utilisation: used / quota.value, headroom: quota.value - used, kind, source: quota.source });
  };

  // API Gateway and the cart API Lambda.
  const apiConcurrency = (rate * WORKLOAD.apiLambda.durationMs) / 1000;
  components.push({ component: 'API Gateway + cart API Lambda', units: { requestsPerSecond: rate, lambdaConcurrency: round(apiConcurrency) }, notes: [`Lambda duration ${WORKLOAD.apiLambda.durationMs} ms per command (cost-model assumption)`] });
  use('API Gateway', 'account requests/s', rate, AWS_QUOTAS.apiGatewayAccountRps);

  // DynamoDB event store (one item per event; several events in one TransactWriteItems, which costs double).
  const history = WORKLOAD.commandsPerCart;
  let readPerCommand = 0;
  for (let h = 0; h < history; h++) readPerCommand += commandUnits('ours', h * eventsPerCommand)!.read;
  readPerCommand /= history;
  const writePerEvent = writeUnits(WORKLOAD.ourEventItemBytes) * (eventsPerCommand > 1 ? 2 : 1);
  const storeWcu = events * writePerEvent;
  const storeRcu = rate * readPerCommand;
  const idempotencyWcu = rate * WORKLOAD.idempotencyKeyShare * 2;
  components.push({
    component: 'DynamoDB event store + idempotency table',
    units: { eventStoreWcuPerSecond: round(storeWcu), eventStoreRcuPerSecond: round(storeRcu), idempotencyWcuPerSecond: round(idempotencyWcu) },
    notes: ['on-demand capacity: no WCU/RCU to provision; the per-table and per-partition limits still apply'],
  });
  use('DynamoDB event store', 'on-demand table write units/s', storeWcu, AWS_QUOTAS.dynamoDbOnDemandTableWru);
  use('DynamoDB event store', 'on-demand table read units/s', storeRcu, AWS_QUOTAS.dynamoDbOnDemandTableRru);
  use('DynamoDB idempotency table', 'on-demand table write units/s', idempotencyWcu, AWS_QUOTAS.dynamoDbOnDemandTableWru);

  // One hot cart: its items share one partition key, so one partition's limits.
  const hotCommands = rate * hotCartShare;
  const hotReadPerCommand = commandUnits('ours', history * eventsPerCommand)!.read;
  const hotCartMaxCommands = Math.min(AWS_QUOTAS.dynamoDbPartitionWcu.value / (eventsPerCommand * writePerEvent), AWS_QUOTAS.dynamoDbPartitionRcu.value / hotReadPerCommand);
  components.push({
    component: 'hot cart',
    units: { commandsPerSecond: round(hotCommands), maxCommandsPerSecondOnePartition: round(hotCartMaxCommands), kinesisRecordsPerSecond: round(hotCommands * eventsPerCommand) },
    notes: [
      'Commands of one cart serialise on its version (optimistic concurrency): concurrent writers get 409 VERSION_CONFLICT and must re-read.',
      'Past the partition limits DynamoDB throttles; the SDK retries, then the API answers 503 SERVICE_UNAVAILABLE with Retry-After: 5 (lambdas/http/unavailable.ts).',
      'One cart is one Kinesis partition key, hence one shard: at most 1,000 records/s whatever the shard count.',
    ],
  });
  if (hotCartShare > 0) {
    use('hot cart (DynamoDB partition)', 'write units/s per partition', hotCommands * eventsPerCommand * writePerEvent, AWS_QUOTAS.dynamoDbPartitionWcu);
    use('hot cart (DynamoDB partition)', 'read units/s per partition', hotCommands * hotReadPerCommand, AWS_QUOTAS.dynamoDbPartitionRcu);
    use('hot cart (Kinesis shard)', 'records/s per shard', hotCommands * eventsPerCommand, AWS_QUOTAS.kinesisShardWriteRecords);
  }

  // DynamoDB Streams and the Pipe. AWS does not publish the stream's shard count; it follows the table's partitions,
  // of which the write rate alone needs at least this many.
  const streamShards = Math.max(1, Math.ceil(storeWcu / AWS_QUOTAS.dynamoDbPartitionWcu.value));
  const pipeBatchesPerSecond = events / WORKLOAD.pipeBatchFill;
  const enrichmentSeconds = (WORKLOAD.pipeBatchFill * costs.enrichmentMicrosPerRecord.value) / 1e6;
  const pipeConcurrency = streamShards; // one poller and one batch in flight per shard (ParallelizationFactor 1)
  components.push({
    component: 'DynamoDB Streams + Pipe + enrichment Lambda',
    units: { streamShardsAtLeast: streamShards, pipeConcurrency, enrichmentInvocationsPerSecond: round(pipeBatchesPerSecond), enrichmentMsPerInvocation: round(enrichmentSeconds * 1000, 3) },
    notes: [
      `Pipe batch size 500, window 1 s; the model assumes ${WORKLOAD.pipeBatchFill} records a batch (cost model). Enrichment µs/record: ${costs.enrichmentMicrosPerRecord.source}.`,
      'Stream shards are not configurable: DynamoDB splits them with the table\u2019s partitions. One reader (the Pipe) per shard.',
    ],
  });
  use('DynamoDB Streams', 'readers per stream shard', 1, AWS_QUOTAS.dynamoDbStreamReadersPerShard);

  // Kinesis.
  const writeMiB = (events * WORKLOAD.envelopeBytes) / MIB;
  const minimumShards = Math.max(1, Math.ceil(events / AWS_QUOTAS.kinesisShardWriteRecords.value), Math.ceil(writeMiB / AWS_QUOTAS.kinesisShardWriteMiB.value), Math.ceil((writeMiB * STREAM_READERS) / AWS_QUOTAS.kinesisShardReadMiB.value));
  const plannedShards = Math.max(1, Math.ceil(minimumShards / TARGET_UTILISATION));
  const onDemandFits = events <= AWS_QUOTAS.kinesisOnDemandStreamWriteRecords.value * TARGET_UTILISATION && writeMiB <= AWS_QUOTAS.kinesisOnDemandStreamWriteMiB.value * TARGET_UTILISATION;
  const provisioned = !onDemandFits || events > AWS_QUOTAS.kinesisOnDemandStartRecords.value;
  const shards = provisioned ? plannedShards : minimumShards;
  components.push({
    component: 'Kinesis events stream',
    units: { recordsPerSecond: round(events), writeMiBPerSecond: round(writeMiB, 3), minimumShards, plannedShards, readersPerShard: STREAM_READERS },
    notes: [
      provisioned
        ? `provisioned with ${plannedShards} shards (kinesisShardCount): above what a new on-demand stream takes at once (4,000 records/s), so on-demand would throttle until it adapts`
        : 'on-demand (kinesisShardCount 0) carries this load from creation',
      `each shard is read by ${STREAM_READERS} GetRecords consumers (the two mappings and Firehose), sharing 2 MiB/s and 5 calls/s`,
    ],
  });
  if (provisioned) {
    use('Kinesis (provisioned)', 'records/s written per shard', events / plannedShards, AWS_QUOTAS.kinesisShardWriteRecords);
    use('Kinesis (provisioned)', 'MiB/s written per shard', writeMiB / plannedShards, AWS_QUOTAS.kinesisShardWriteMiB);
    use('Kinesis (provisioned)', 'MiB/s read per shard (all readers)', (writeMiB * STREAM_READERS) / plannedShards, AWS_QUOTAS.kinesisShardReadMiB);
    use('Kinesis (provisioned)', 'shards per account', plannedShards, AWS_QUOTAS.kinesisProvisionedShardsPerAccount);
  } else {
    use('Kinesis (on-demand)', 'records/s at creation', events, AWS_QUOTAS.kinesisOnDemandStartRecords);
  }
  use('Kinesis', 'GetRecords calls/s per shard', STREAM_READERS, AWS_QUOTAS.kinesisShardGetRecordsTps);

  // Consumers: concurrency = shards x factor; a lane (one batch at a time) sustains the measured events/s.
  const context: Record<string, number> = { kinesisShardCount: provisioned ? plannedShards : 0 };
  const perShardEvents = events / shards;
  let consumerConcurrency = 0;
  const consumerRates: Record<ConsumerName, Measured> = { eventLog: costs.eventLogEventsPerSecond, projections: costs.projectionEventsPerSecond };
  for (const name of CONSUMER_NAMES) {
    const laneRate = consumerRates[name].value;
    let factor = 1;
    while (factor < MAX_PARALLELIZATION_FACTOR && perShardEvents / (factor * laneRate) > TARGET_UTILISATION) factor++;
    const utilisation = perShardEvents / (factor * laneRate);
    const window = KINESIS_CONSUMERS[name].maximumBatchingWindowInSeconds;
    const batchSeconds = Math.min(KINESIS_CONSUMERS[name].batchSize, Math.max(1, perShardEvents / factor)) / laneRate;
    consumerConcurrency += shards * factor;
    context[parallelizationFactorKey(name)] = factor;
    components.push({
      component: `consumer ${name}`,
      units: { parallelizationFactor: factor, concurrency: shards * factor, eventsPerSecondPerShard: round(perShardEvents), laneEventsPerSecond: round(laneRate), iteratorAgeSeconds: utilisation < 1 ? round(window + batchSeconds, 2) : Number.POSITIVE_INFINITY },
      notes: [
        `lane throughput: ${consumerRates[name].source}`,
        utilisation < 1 ? 'keeps up: iterator age stays about one batching window plus one batch' : 'falls behind even at factor 10: add shards (kinesisShardCount), the iterator age grows without bound',
      ],
    });
    use(`consumer ${name}`, 'throughput of shards x factor lanes', perShardEvents / factor, { value: laneRate, unit: 'events/s per lane', kind: 'measured cost', source: consumerRates[name].source });
  }
  use('consumers', 'parallelization factor', Math.max(...CONSUMER_NAMES.map((n) => context[parallelizationFactorKey(n)]!)), AWS_QUOTAS.lambdaParallelizationFactor);

  // Lambda account concurrency: API + enrichment + consumers (+ Firehose needs none).
  const lambdaConcurrency = apiConcurrency + pipeConcurrency + consumerConcurrency;
  components.push({ component: 'Lambda (account)', units: { concurrency: round(lambdaConcurrency) }, notes: ['cart API + enrichment (one batch per stream shard) + consumers (shards x factor each)'] });
  use('Lambda', 'account concurrent executions', lambdaConcurrency, AWS_QUOTAS.lambdaAccountConcurrency);

  // Firehose: no quota of its own with a Kinesis source.
  components.push({ component: 'Firehose (Kinesis source)', units: { recordsPerSecond: round(events), objectsPerHour: round(3600 / 300) }, notes: ['reads every shard as one of its GetRecords consumers (counted under Kinesis); buffers 5 MiB / 300 s'] });

  // Replay and rebuild of one day's archive.
  const dayEvents = events * 86_400;
  const replayRate = Math.min(REPLAY_MAP_CONCURRENCY * costs.replayEventsPerSecondPerWorker.value, AWS_QUOTAS.dynamoDbOnDemandTableWru.value / 2);
  components.push({
    component: 'replay / rebuild of one day',
    units: { events: round(dayEvents), mapConcurrency: REPLAY_MAP_CONCURRENCY, eventsPerSecond: round(replayRate), hours: round(dayEvents / replayRate / 3600, 2) },
    notes: [`Map MaxConcurrency ${REPLAY_MAP_CONCURRENCY} (statemachines/replay.asl.json) x ${round(costs.replayEventsPerSecondPerWorker.value)} events/s a worker (${costs.replayEventsPerSecondPerWorker.source}); projection tables at most 40,000 WRU/s, about 2 per event`],
  });
  use('replay', 'projection table write units/s', replayRate * 2, AWS_QUOTAS.dynamoDbOnDemandTableWru);

  context.apiThrottleRateLimit = Math.max(200, Math.ceil(rate / TARGET_UTILISATION));
  context.apiThrottleBurstLimit = 2 * context.apiThrottleRateLimit;

  // Cost: the cost model's per-million lines, event-proportional lines scaled by events per command.
  const lines = costPerMillionCommands({ ...WORKLOAD, commandsPerSecond: rate } as typeof WORKLOAD);
  const perMillion = lines.reduce((sum, line) => sum + (line.ours ?? 0) * (PER_COMMAND_COST_LINES.has(line.component) ? 1 : eventsPerCommand), 0);
  const fixed = provisioned ? plannedShards * PROVISIONED_SHARD_MONTHLY : ON_DEMAND_STREAM_MONTHLY;
  const millions = (rate * SECONDS_PER_MONTH) / 1e6;
  const ranked = [...limits].sort((a, b) => b.utilisation - a.utilisation);
  // A rebuild's write rate does not grow with the load (only its duration does): it never binds the live path.
  const first = ranked.find((limit) => limit.component !== 'replay')!;
  return {
    input: { commandsPerSecond: rate, eventsPerCommand, hotCartShare },
    components,
    limits: ranked,
    firstBinding: { ...first, bindsNow: first.utilisation >= 1 },
    context,
    monthlyCostUsd: {
      total: round(perMillion * millions + fixed, 2),
      perMillionCommands: round(perMillion, 4),
      fixed: round(fixed, 2),
      note: `${round(millions, 1)} million commands in 30 days at the cost model's prices (infra/cost-model.ts); Kinesis ${provisioned ? `${plannedShards} provisioned shards` : 'on-demand stream-hours'} as the fixed part (its per-GB line stays the on-demand one)`,
    },
    costSources: Object.fromEntries(Object.entries(costs).map(([key, value]) => [key, (value as Measured).source])) as Record<keyof MeasuredCosts, string>,
  };
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Our per-record costs from a bench/results.json document; a figure the run lacks falls back to ASSUMED_COSTS. */
export function measuredCostsFrom(results: unknown): MeasuredCosts {
  const entries = ((results as { entries?: { name: string; ratios?: { name: string; subjectValue: number }[] }[] })?.entries ?? []);
  const ratio = (entry: string, match: (name: string) => boolean): Measured | undefined => {
    const found = entries.find((e) => e.name === entry)?.ratios?.find((r) => match(r.name));
    return found && Number.isFinite(found.subjectValue) && found.subjectValue > 0 ? { value: found.subjectValue, source: `bench/results.json: ${entry} / "${found.name}"` } : undefined;
  };
  const enrichment = ratio('cdc-enrichment', (n) => n.startsWith('enrichment records/s, event-per-item'));
  return {
    enrichmentMicrosPerRecord: enrichment ? { value: 1e6 / enrichment.value, source: enrichment.source } : ASSUMED_COSTS.enrichmentMicrosPerRecord,
    projectionEventsPerSecond: ratio('consumers', (n) => n === 'projection events/s, in order') ?? ASSUMED_COSTS.projectionEventsPerSecond,
    // The bench measures the projections consumer only; the event log (one log line per event) keeps the model's figure.
    eventLogEventsPerSecond: ASSUMED_COSTS.eventLogEventsPerSecond,
    replayEventsPerSecondPerWorker: (() => {
      const replay = ratio('replay', (n) => n.startsWith('replay events/s, 100000 events') && !n.includes('floor'));
      return replay ? { value: replay.value / REPLAY_MAP_CONCURRENCY, source: `${replay.source} (one local process for all ${REPLAY_MAP_CONCURRENCY} Map workers: a lower bound per worker)` } : ASSUMED_COSTS.replayEventsPerSecondPerWorker;
    })(),
  };
}
