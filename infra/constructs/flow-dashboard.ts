import { Duration } from 'aws-cdk-lib';
import { AlarmStatusWidget, Dashboard, GraphWidget, Stats, TextWidget, type IAlarm, type IMetric, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { METRIC } from '../../lambdas/metric-names';
import { ARCHIVE_RECORDS_READ_METRIC, ARCHIVE_SOURCE_LAG_METRIC, customMetric, deployedCustomMetricKeys, firehoseMetric, pipeMetric, queueDepth, type FlowResources } from '../flow-metrics';

export interface FlowDashboardProps {
  readonly resources: FlowResources;
  readonly alarms: readonly IAlarm[];
  /** CanaryHopFailed per hop (infra/constructs/pipeline-canary.ts); none when the canary is off. */
  readonly canaryHops?: readonly IMetric[];
}

/**
 * One dashboard that follows an event end to end, one row per stage, left to right in the order the data flows:
 * commands -> event store -> Pipe (+ enrichment) -> Kinesis -> consumers -> archive, then replays and dead letters.
 */
export class FlowDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: FlowDashboardProps) {
    super(scope, id);
    const r = props.resources;
    const custom = new Set(deployedCustomMetricKeys(r));
    const customOf = (...keys: (keyof typeof METRIC)[]): IMetric[] =>
      keys.filter((key) => custom.has(key)).map((key) => customMetric(r.stage, key));
    const graph = (title: string, left: IMetric[], right: IMetric[] = [], width = 8): GraphWidget =>
      new GraphWidget({ title, left, right, width, height: 6 });
    const row = (heading: string, ...widgets: IWidget[]): IWidget[] => [new TextWidget({ markdown: `### ${heading}`, width: 24, height: 1 }), ...widgets];

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${r.stage}-cart-flow`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          '## Cart events, end to end\nCommands (HTTP API) -> event store (DynamoDB + stream) -> EventBridge Pipe (enrichment splits changes into events) -> Kinesis -> consumers (Lambda) and archive (Firehose -> S3). Replays read the archive. Runbook: docs/operating-on-aws.md, section "Runbook".',
        width: 24,
        height: 2,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 }),
    );
    const rows: IWidget[][] = [
      row(
        '1. Commands (HTTP API)',
        graph('Requests', [r.api.metricCount({ statistic: Stats.SUM })], [r.api.metricClientError({ statistic: Stats.SUM }), r.api.metricServerError({ statistic: Stats.SUM })]),
        graph('Latency (ms)', [r.api.metricLatency({ statistic: Stats.p(50) }), r.api.metricLatency({ statistic: Stats.p(99) })], [r.api.metricIntegrationLatency({ statistic: Stats.p(99) })]),
        graph('Outcomes (handler)', customOf('requestsSucceeded', 'requestsRejected', 'requestsFailed')),
      ),
      row(
        '2. Event store (DynamoDB)',
        graph('Write capacity consumed', [r.eventStore.metricConsumedWriteCapacityUnits({ statistic: Stats.SUM })]),
        graph('Read capacity consumed', [r.eventStore.metricConsumedReadCapacityUnits({ statistic: Stats.SUM })]),
        graph('Errors', [r.eventStore.metricUserErrors({ statistic: Stats.SUM }), r.eventStore.metric('ConditionalCheckFailedRequests', { statistic: Stats.SUM })]),
      ),
      row(
        '3. CDC Pipe and enrichment',
        graph('Pipe executions', [pipeMetric(r.pipeName, 'Invocations'), pipeMetric(r.pipeName, 'EventCount')], [
          pipeMetric(r.pipeName, 'ExecutionFailed'),
          pipeMetric(r.pipeName, 'ExecutionThrottled'),
          pipeMetric(r.pipeName, 'EnrichmentStageFailed'),
          pipeMetric(r.pipeName, 'TargetStageFailed'),
        ], 6),
        graph('Events published / per stream record', customOf('eventsPublished'), [
          ...(custom.has('eventsPerStreamRecord') ? [customMetric(r.stage, 'eventsPerStreamRecord', Stats.AVERAGE), customMetric(r.stage, 'eventsPerStreamRecord', Stats.MAXIMUM)] : []),
        ], 6),
        graph('Enrichment lag (ms)', custom.has('enrichmentLag') ? [customMetric(r.stage, 'enrichmentLag', Stats.p(50)), customMetric(r.stage, 'enrichmentLag', Stats.p(99))] : [], [], 6),
        graph('Enrichment Lambda', [r.enrichment.metricDuration({ statistic: Stats.p(99) })], [r.enrichment.metricErrors({ statistic: Stats.SUM }), ...customOf('recordsDeadLettered')], 6),
      ),
      row(
        '4. Kinesis events stream',
        graph('Records in', [r.stream.metricIncomingRecords({ statistic: Stats.SUM })], [r.stream.metricIncomingBytes({ statistic: Stats.SUM })]),
        graph('Write throttling', [r.stream.metricWriteProvisionedThroughputExceeded({ statistic: Stats.SUM }), r.stream.metricPutRecordsThrottledRecords({ statistic: Stats.SUM })]),
        graph('Oldest unread record (ms)', [r.stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: Stats.MAXIMUM })]),
      ),
      row(
        '5. Consumers',
        graph('Iterator age (ms)', r.consumers.map((c) => c.function.metric('IteratorAge', { statistic: Stats.MAXIMUM, label: c.name }))),
        graph('Errors', r.consumers.map((c) => c.function.metricErrors({ statistic: Stats.SUM, label: c.name }))),
        graph('Projection events', customOf('projectionEventsApplied', 'projectionDuplicatesSkipped')),
      ),
      row(
        '6. Archive (Firehose -> S3)',
        graph('Records read from the stream / delivered', [firehoseMetric(r.archive, ARCHIVE_RECORDS_READ_METRIC), firehoseMetric(r.archive, 'DeliveryToS3.Records')]),
        graph('Behind the stream (ms) / delivery freshness (s)', [firehoseMetric(r.archive, ARCHIVE_SOURCE_LAG_METRIC, Stats.MAXIMUM)], [firehoseMetric(r.archive, 'DeliveryToS3.DataFreshness', Stats.MAXIMUM)]),
        graph('Delivery success', [firehoseMetric(r.archive, 'DeliveryToS3.Success', Stats.AVERAGE)]),
      ),
      row(
        '7. Replays and backfills (Step Functions)',
        graph('Executions', r.stateMachines.flatMap((s) => [s.stateMachine.metricStarted({ label: `${s.name} started` }), s.stateMachine.metricSucceeded({ label: `${s.name} succeeded` })]), r.stateMachines.flatMap((s) => [s.stateMachine.metricFailed({ label: `${s.name} failed` })]), 12),
        graph('Events replayed (read, applied)', customOf('replayEventsRead', 'replayEventsApplied'), [], 12),
      ),
      row('8. Dead letters', graph('Messages waiting in dead-letter queues', r.deadLetterQueues.map((d) => queueDepth(d.queue).with({ label: d.name })), [], 24)),
      ...(props.canaryHops?.length ? [row('9. Canary (a probe cart through every hop; 1 = the hop failed)', graph('CanaryHopFailed by hop', [...props.canaryHops], [], 24))] : []),
    ];
    for (const widgets of rows) this.dashboard.addWidgets(...widgets);
  }
}
