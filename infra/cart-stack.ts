import { CONSUMER_POSITIONS_KEY } from '../adapters/dynamodb/consumer-positions-table';
import { join } from 'node:path';
import { CfnOutput, Duration, Fn, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { MathExpression, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ITEM_POPULARITY_KEY, ITEM_POPULARITY_RANKING, CART_SUMMARY_KEY } from '../adapters/dynamodb/projection-tables';
import { cdcPipeSettings, DYNAMODB_STREAM_RETENTION_SECONDS } from '../lambdas/cdc-enrichment/pipe-settings';
import { canaryScheduleOf, consumerParallelizationFactors, type DeploymentConfig } from './config';
import { CartHttpApi } from './constructs/cart-http-api';
import { CdcPipe } from './constructs/cdc-pipe';
import { EventArchive } from './constructs/event-archive';
import { EventStore } from './constructs/event-store';
import { EventsStream } from './constructs/events-stream';
import { FlowDashboard } from './constructs/flow-dashboard';
import { OperationsAlarms } from './constructs/operations-alarms';
import { OperationsStateMachine } from './constructs/operations-state-machine';
import { PipelineCanary } from './constructs/pipeline-canary';
import { ProjectionTables } from './constructs/projection-tables';
import { PROJECT_ROOT, RegistryFunctions } from './constructs/registry-functions';
import { StreamConsumers } from './constructs/stream-consumers';
import { ARCHIVE_SOURCE_LAG_METRIC, pipeMetric, queueDepth, firehoseMetric, type FlowResources } from './flow-metrics';
import { POINTER_CACHE_MS } from '../application/generations';
import { defaultRetireAfterSeconds } from '../application/replay';
import { readAslRequirements } from './asl-definition';
import { wireLambda } from './lambda-wiring';
import { PIPE_DEAD_LETTER_QUEUE, STACK_OUTPUTS } from './stack-outputs';
import { checkRecordAgesAgainstRetention, streamConsumers } from './stream-consumer-settings';

export interface CartStackProps extends StackProps {
  readonly config: DeploymentConfig;
}

/** The state machines of statemachines/, by the name the local stack gives them. */
export const STATE_MACHINE_FILES = { replay: 'statemachines/replay.asl.json', backfill: 'statemachines/backfill.asl.json' } as const;

/** The replay's object step: a replay into the projections writes through it. */
const REPLAY_OBJECT_PLACEHOLDER = 'ReplayObjectFunctionArn';
/** Lambda's timeout when a function sets none. */
const LAMBDA_DEFAULT_TIMEOUT_SECONDS = 3;

/**
 * The whole system on AWS. Env-agnostic (no account or region, no lookups): it synthesizes offline and deploys
 * into whatever account and region the CLI is pointed at.
 */
export class CartStack extends Stack {
  readonly functions: RegistryFunctions;
  readonly eventStore: EventStore;
  readonly events: EventsStream;
  readonly projections: ProjectionTables;
  readonly archive: EventArchive;
  readonly pipe: CdcPipe;
  readonly api: CartHttpApi;
  readonly consumers: StreamConsumers;
  readonly stateMachines: ReadonlyMap<string, OperationsStateMachine>;
  readonly alarms: OperationsAlarms;
  readonly dashboard: FlowDashboard;
  readonly canary: PipelineCanary;

  constructor(scope: Construct, id: string, props: CartStackProps) {
    super(scope, id, props);
    const { config } = props;
    const stage = config.stage;
    const logRetention = config.logRetentionDays as RetentionDays;

    const functions = new RegistryFunctions(this, 'Lambdas', { stage, logRetention });
    const eventStore = new EventStore(this, 'EventStore', { stage, adoptStreamArn: config.adoptEventStoreStreamArn });
    const events = new EventsStream(this, 'EventsStream', { stage, shardCount: config.kinesisShardCount, retentionHours: config.kinesisRetentionHours });
    const projections = new ProjectionTables(this, 'Projections', {
      stage,
      projections: [
        { name: 'cart-summary', partitionKey: { name: CART_SUMMARY_KEY.partitionKey, type: 'S' } },
        {
          name: 'item-popularity',
          partitionKey: { name: ITEM_POPULARITY_KEY.partitionKey, type: 'S' },
          globalSecondaryIndexes: [
            {
              indexName: ITEM_POPULARITY_RANKING.indexName,
              partitionKey: { name: ITEM_POPULARITY_RANKING.partitionKey, type: 'S' },
              sortKey: { name: ITEM_POPULARITY_RANKING.sortKey, type: 'N' },
            },
          ],
        },
        // The sequenced consumers' per-cart positions (the event log's: it keeps no read model of its own).
        { name: 'consumer-positions', partitionKey: { name: CONSUMER_POSITIONS_KEY.partitionKey, type: 'S' } },
      ],
    });
    const archive = new EventArchive(this, 'Archive', {
      stage,
      source: events.stream,
      infrequentAccessAfterDays: config.archiveInfrequentAccessAfterDays,
      glacierInstantRetrievalAfterDays: config.archiveGlacierInstantRetrievalAfterDays,
      noncurrentVersionsExpireAfterDays: config.archiveNoncurrentVersionsExpireAfterDays,
      logRetention,
    });

    const pipeSettings = cdcPipeSettings('event-per-item');
    const streamConsumerSettings = streamConsumers(consumerParallelizationFactors(config));
    checkRecordAgesAgainstRetention([
      { name: 'CDC Pipe', maximumRecordAgeInSeconds: pipeSettings.source.MaximumRecordAgeInSeconds, retentionSeconds: DYNAMODB_STREAM_RETENTION_SECONDS },
      ...streamConsumerSettings.map((consumer) => ({
        name: `consumer ${consumer.name}`,
        maximumRecordAgeInSeconds: consumer.maximumRecordAgeInSeconds,
        retentionSeconds: config.kinesisRetentionHours * 3600,
      })),
    ]);
    const pipeName = `${stage}-cart-cdc`;
    const pipe = new CdcPipe(this, 'CdcPipe', {
      name: pipeName,
      table: eventStore.table,
      enrichment: functions.get('cdcEnrichment'),
      target: events.stream,
      logRetention,
      settings: {
        batchSize: pipeSettings.source.BatchSize,
        maximumBatchingWindowInSeconds: pipeSettings.source.MaximumBatchingWindowInSeconds,
        maximumRetryAttempts: pipeSettings.source.MaximumRetryAttempts,
        maximumRecordAgeInSeconds: pipeSettings.source.MaximumRecordAgeInSeconds,
        startingPosition: pipeSettings.source.StartingPosition,
        filterPatterns: pipeSettings.filterPatterns,
        partitionKey: pipeSettings.partitionKey,
      },
    });

    // A rebuild's default wait before retiring the old generation covers what it guards, as this template has it: the
    // longest consumer invocation or replay object step that may have started before the switch, plus the pointer cache.
    const retireAfterSecondsDefault = defaultRetireAfterSeconds(
      Math.max(
        ...streamConsumerSettings.map((consumer) => functions.get(consumer.lambda).timeout?.toSeconds() ?? LAMBDA_DEFAULT_TIMEOUT_SECONDS),
        readAslRequirements(join(PROJECT_ROOT, STATE_MACHINE_FILES.replay)).taskTimeoutSeconds[REPLAY_OBJECT_PLACEHOLDER] ?? 0,
      ),
      POINTER_CACHE_MS,
    );
    for (const [name, fn] of functions.functions) {
      wireLambda(name, fn, {
        retireAfterSecondsDefault,
        eventStore: eventStore.table,
        idempotency: eventStore.idempotencyTable,
        eventsStream: events.stream,
        cartSummary: projections.get('cart-summary'),
        itemPopularity: projections.get('item-popularity'),
        consumerPositions: projections.get('consumer-positions'),
        archive: archive.bucket,
        cdcDeadLetterQueue: pipe.deadLetterQueue,
      });
    }

    const api = new CartHttpApi(this, 'HttpApi', {
      stage,
      functionFor: (name) => functions.get(name),
      authorization: config,
      throttle: { rateLimit: config.apiThrottleRateLimit, burstLimit: config.apiThrottleBurstLimit },
      logRetention,
    });

    const consumerSettings = streamConsumerSettings.map((consumer) => ({ ...consumer, function: functions.get(consumer.lambda) }));
    const consumers = new StreamConsumers(this, 'Consumers', { stream: events.stream, consumers: consumerSettings });

    this.functions = functions;
    this.eventStore = eventStore;
    this.events = events;
    this.projections = projections;
    this.archive = archive;
    this.pipe = pipe;
    this.api = api;
    this.consumers = consumers;

    const stateMachines = Object.entries(STATE_MACHINE_FILES).map(([name, file]) => ({
      name,
      construct: new OperationsStateMachine(this, `${name.charAt(0).toUpperCase()}${name.slice(1)}StateMachine`, {
        stateMachineName: `${stage}-${name}`,
        definitionFile: join(PROJECT_ROOT, file),
        functionFor: (lambdaName) => functions.get(lambdaName),
        buckets: { ArchiveBucket: archive.bucket },
        logRetention,
      }),
    }));

    this.stateMachines = new Map(stateMachines.map((s) => [s.name, s.construct]));

    const flow: FlowResources = {
      stage,
      api: api.api,
      eventStore: eventStore.table,
      pipeName,
      enrichment: functions.get('cdcEnrichment'),
      stream: events.stream,
      consumers: consumerSettings.map((c) => ({ name: c.name, function: c.function, failureQueue: consumers.failureQueues.get(c.name)! })),
      archive: archive.deliveryStream,
      stateMachines: stateMachines.map((s) => ({ name: s.name, stateMachine: s.construct.stateMachine })),
      deadLetterQueues: [
        { name: PIPE_DEAD_LETTER_QUEUE, queue: pipe.deadLetterQueue },
        ...consumerSettings.map((c) => ({ name: `consumer-${c.name}`, queue: consumers.failureQueues.get(c.name)! })),
      ],
      deployedFunctions: new Set(functions.functions.keys()),
    };

    const alarms = new OperationsAlarms(this, 'Alarms', { stage, alarmEmail: config.alarmEmail });
    const fiveMinutes = Duration.minutes(5);
    alarms.add({
      name: 'pipe-execution-failures',
      description: 'The CDC Pipe failed executions (enrichment or Kinesis target): events are being retried and may reach the dead-letter queue.',
      metric: new MathExpression({
        expression: 'failed + timedOut',
        usingMetrics: { failed: pipeMetric(pipeName, 'ExecutionFailed', fiveMinutes), timedOut: pipeMetric(pipeName, 'ExecutionTimeout', fiveMinutes) },
        period: fiveMinutes,
        label: 'Pipe executions failed or timed out',
      }),
      threshold: config.alarmPipeFailuresPerFiveMinutes,
    });
    alarms.add({
      name: 'pipe-throttled',
      description: 'The CDC Pipe is being throttled: events reach Kinesis late.',
      metric: pipeMetric(pipeName, 'ExecutionThrottled', fiveMinutes),
      threshold: config.alarmPipeThrottlesPerFiveMinutes,
    });
    alarms.add({
      name: 'enrichment-errors',
      description: 'The enrichment Lambda threw: the Pipe retries (bisecting) and finally dead-letters the batch.',
      metric: flow.enrichment.metricErrors({ statistic: Stats.SUM, period: fiveMinutes }),
      threshold: config.alarmEnrichmentErrorsPerFiveMinutes,
    });
    for (const { name, queue } of flow.deadLetterQueues) {
      alarms.add({
        name: `dlq-${name}`,
        description: `Messages are waiting in the ${name} dead-letter queue: events did not reach their destination.`,
        metric: queueDepth(queue),
        threshold: 1,
      });
    }
    for (const consumer of flow.consumers) {
      alarms.add({
        name: `iterator-age-${consumer.name}`,
        description: `The ${consumer.name} consumer is behind the events stream (oldest unprocessed record age).`,
        metric: consumer.function.metric('IteratorAge', { statistic: Stats.MAXIMUM, period: Duration.minutes(1) }),
        threshold: config.alarmConsumerIteratorAgeMs,
      });
    }
    alarms.add({
      name: 'kinesis-write-throttling',
      description: 'Writes to the events stream are throttled (shard limits): the Pipe retries, events arrive late.',
      metric: events.stream.metricWriteProvisionedThroughputExceeded({ statistic: Stats.SUM, period: fiveMinutes }),
      threshold: config.alarmKinesisWriteThrottlesPerFiveMinutes,
    });
    for (const { name, stateMachine } of flow.stateMachines) {
      alarms.add({
        name: `${name}-failed`,
        description: `A ${name} execution failed, timed out or was aborted.`,
        metric: new MathExpression({
          expression: 'failed + timedOut + aborted',
          usingMetrics: {
            failed: stateMachine.metricFailed({ statistic: Stats.SUM, period: fiveMinutes }),
            timedOut: stateMachine.metricTimedOut({ statistic: Stats.SUM, period: fiveMinutes }),
            aborted: stateMachine.metricAborted({ statistic: Stats.SUM, period: fiveMinutes }),
          },
          period: fiveMinutes,
          label: `${name} executions failed`,
        }),
        threshold: 1,
      });
    }
    alarms.add({
      name: 'api-5xx',
      description: 'The cart API answered with server errors.',
      metric: api.api.metricServerError({ statistic: Stats.SUM, period: Duration.minutes(1) }),
      threshold: config.alarmApi5xxPerMinute,
    });
    alarms.add({
      name: 'api-latency-p99',
      description: 'The cart API p99 latency is above its target.',
      metric: api.api.metricLatency({ statistic: Stats.p(99), period: fiveMinutes }),
      threshold: config.alarmApiLatencyP99Ms,
    });
    alarms.add({
      name: 'archive-freshness',
      description: 'The oldest record not yet delivered to the S3 archive is too old: Firehose cannot write to the bucket.',
      metric: firehoseMetric(archive.deliveryStream, 'DeliveryToS3.DataFreshness', Stats.MAXIMUM),
      threshold: config.alarmArchiveFreshnessSeconds,
    });
    // DeliveryToS3.DataFreshness counts from a record's arrival in Firehose, so a delivery stream that reads the events
    // stream too slowly looks fresh while it falls hours behind. For a Kinesis data stream source AWS documents
    // KinesisMillisBehindLatest: how far the last record read is behind the newest record of the stream (Firehose
    // developer guide, "Monitoring with CloudWatch metrics", data ingestion through Kinesis Data Streams; unit ms).
    alarms.add({
      name: 'archive-source-lag',
      description: 'Firehose reads the events stream too slowly: the archive falls behind the stream and, past its retention, would miss events.',
      metric: firehoseMetric(archive.deliveryStream, ARCHIVE_SOURCE_LAG_METRIC, Stats.MAXIMUM),
      threshold: config.alarmArchiveSourceLagMs,
    });

    const canary = new PipelineCanary(this, 'Canary', {
      stage,
      function: functions.get('canary'),
      api: api.api,
      apiStageName: api.stage.stageName,
      replayStateMachine: this.stateMachines.get('replay')!.stateMachine,
      replayStateMachineName: `${stage}-replay`,
      eventLogLogGroup: functions.get('eventLog').logGroup,
      deadLetterQueues: flow.deadLetterQueues,
      ...(canaryScheduleOf(config) ? { schedule: canaryScheduleOf(config)! } : {}),
    });
    if (canary.anyHopFailed) {
      alarms.add({
        name: 'canary',
        description: 'The pipeline canary found a hop failing, or did not run or finish: a probe cart did not make it through the pipeline.',
        metric: canary.anyHopFailed,
        threshold: 1,
        treatMissingData: TreatMissingData.BREACHING,
      });
    }
    this.canary = canary;

    Validations.of(this).acknowledge({
      id: 'CloudFormation-Validate::W7001',
      reason: 'The Firehose L2 adds a mapping of Firehose CIDR blocks for VPC destinations; this stream delivers to S3 and does not use it.',
    });

    const dashboard = new FlowDashboard(this, 'Dashboard', { resources: flow, alarms: alarms.alarms, canaryHops: canary.hopMetrics });

    this.alarms = alarms;
    this.dashboard = dashboard;

    new CfnOutput(this, 'ApiUrl', { value: api.api.apiEndpoint, description: 'Cart HTTP API (IAM-signed requests by default)' });
    new CfnOutput(this, 'ArchiveBucketName', { value: archive.bucket.bucketName });
    new CfnOutput(this, STACK_OUTPUTS.alarmTopicArn, { value: alarms.topic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: dashboard.dashboard.dashboardName });
    for (const { name, construct } of stateMachines) {
      new CfnOutput(this, `${name}StateMachineArn`, { value: construct.stateMachine.stateMachineArn });
    }
    this.addVerifyOutputs(flow, projections);
  }

  /** What `cdc-cart --aws` resolves besides the outputs above (infra/stack-outputs.ts lists every one it reads). */
  private addVerifyOutputs(flow: FlowResources, projections: ProjectionTables): void {
    new CfnOutput(this, STACK_OUTPUTS.eventStoreTable, { value: this.eventStore.table.tableName });
    new CfnOutput(this, STACK_OUTPUTS.eventsStream, { value: this.events.stream.streamName });
    new CfnOutput(this, STACK_OUTPUTS.cartSummaryTable, { value: projections.get('cart-summary').tableName });
    new CfnOutput(this, STACK_OUTPUTS.itemPopularityTable, { value: projections.get('item-popularity').tableName });
    new CfnOutput(this, STACK_OUTPUTS.eventLogLogGroup, { value: this.functions.get('eventLog').logGroup.logGroupName });
    new CfnOutput(this, STACK_OUTPUTS.deadLetterQueueUrls, {
      value: Fn.join(',', flow.deadLetterQueues.map(({ name, queue }) => Fn.join('=', [name, queue.queueUrl]))),
      description: 'name=url of every dead-letter queue',
    });
  }
}
