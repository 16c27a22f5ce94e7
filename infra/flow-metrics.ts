import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { METRIC, metricsNamespaceFor, type MetricKey } from '../lambdas/metric-names';

/**
 * The metrics of every stage of the flow, for the alarms and the dashboard alike, so both look at the same series.
 */
export interface FlowResources {
  readonly stage: string;
  readonly api: HttpApi;
  readonly eventStore: ITable;
  readonly pipeName: string;
  readonly enrichment: IFunction;
  readonly stream: IStream;
  readonly consumers: readonly { name: string; function: IFunction; failureQueue: IQueue }[];
  readonly archive: IDeliveryStream;
  readonly stateMachines: readonly { name: string; stateMachine: IStateMachine }[];
  readonly deadLetterQueues: readonly { name: string; queue: IQueue }[];
  /** Registry names of the deployed functions: custom metrics of functions not deployed are left out. */
  readonly deployedFunctions: ReadonlySet<string>;
}

export const PIPES_NAMESPACE = 'AWS/EventBridge/Pipes';

export function pipeMetric(pipeName: string, metricName: string, period = Duration.minutes(1)): Metric {
  return new Metric({ namespace: PIPES_NAMESPACE, metricName, dimensionsMap: { PipeName: pipeName }, statistic: Stats.SUM, period });
}

export function customMetric(stage: string, key: MetricKey, statistic: string = Stats.SUM, period = Duration.minutes(1)): Metric {
  const definition = METRIC[key];
  return new Metric({
    namespace: metricsNamespaceFor(stage),
    metricName: definition.name,
    dimensionsMap: { service: definition.emittedBy },
    statistic,
    period,
    label: `${definition.name} (${statistic})`,
  });
}

export function deployedCustomMetricKeys(resources: Pick<FlowResources, 'deployedFunctions'>): MetricKey[] {
  return (Object.keys(METRIC) as MetricKey[]).filter((key) => resources.deployedFunctions.has(METRIC[key].emittedBy));
}

export function queueDepth(queue: IQueue, period = Duration.minutes(1)): Metric {
  return queue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period });
}

/**
 * Firehose metrics of a delivery stream whose source is a Kinesis data stream (Firehose developer guide, "Monitoring
 * with CloudWatch metrics", data ingestion through Kinesis Data Streams): IncomingRecords counts Direct PUT only and
 * stays empty for such a stream; these two are what it emits instead.
 */
export const ARCHIVE_SOURCE_LAG_METRIC = 'KinesisMillisBehindLatest';
export const ARCHIVE_RECORDS_READ_METRIC = 'DataReadFromKinesisStream.Records';

export function firehoseMetric(archive: IDeliveryStream, metricName: string, statistic: string = Stats.SUM): Metric {
  return archive.metric(metricName, { statistic, period: Duration.minutes(5) });
}
