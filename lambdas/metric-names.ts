import { MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * The custom metrics of the system (CloudWatch embedded metric format through Powertools Metrics), shared by the
 * handlers that emit them and the CDK dashboard and alarms that read them. A metric is only found in CloudWatch
 * under its exact namespace and dimensions, so both sides take them from here:
 *
 * - namespace: `${METRICS_NAMESPACE}/${stage}`; CDK sets POWERTOOLS_METRICS_NAMESPACE to it on every function.
 * - dimension `service`: Powertools adds it from POWERTOOLS_SERVICE_NAME, which CDK sets to the function's name in
 *   lambdas/registry.ts (e.g. "cdcEnrichment"). `emittedBy` below names that function.
 *
 * Emit with `metrics.addMetric(METRIC.eventsPublished.name, METRIC.eventsPublished.unit, n)`. A metric added several
 * times in one invocation (EventsPerStreamRecord: once per stream record) becomes one EMF entry with many values, so
 * its average, maximum and percentiles are meaningful.
 */
export const METRICS_NAMESPACE = 'CdcCart';

export interface MetricDefinition {
  readonly name: string;
  readonly unit: (typeof MetricUnit)[keyof typeof MetricUnit];
  /** Registry name of the Lambda function that emits it (its `service` dimension). */
  readonly emittedBy: string;
  readonly description: string;
}

export const METRIC = {
  requestsSucceeded: {
    name: 'RequestsSucceeded',
    unit: MetricUnit.Count,
    emittedBy: 'cartApi',
    description: 'API requests answered with 2xx/3xx',
  },
  requestsRejected: {
    name: 'RequestsRejected',
    unit: MetricUnit.Count,
    emittedBy: 'cartApi',
    description: 'API requests refused with a 4xx (bad input, business rule, version)',
  },
  requestsFailed: {
    name: 'RequestsFailed',
    unit: MetricUnit.Count,
    emittedBy: 'cartApi',
    description: 'API requests that hit an unexpected error (5xx)',
  },
  eventsPublished: {
    name: 'EventsPublished',
    unit: MetricUnit.Count,
    emittedBy: 'cdcEnrichment',
    description: 'Event envelopes the enrichment returned to the Pipe (one Kinesis record each)',
  },
  eventsPerStreamRecord: {
    name: 'EventsPerStreamRecord',
    unit: MetricUnit.Count,
    emittedBy: 'cdcEnrichment',
    description: 'Events derived from one DynamoDB stream record (added once per record)',
  },
  enrichmentLag: {
    name: 'EnrichmentLag',
    unit: MetricUnit.Milliseconds,
    emittedBy: 'cdcEnrichment',
    description: 'Now minus the stream record ApproximateCreationDateTime, at enrichment (added once per record)',
  },
  recordsDeadLettered: {
    name: 'RecordsDeadLettered',
    unit: MetricUnit.Count,
    emittedBy: 'cdcEnrichment',
    description: 'Malformed stream records sent to the dead-letter queue with their reason',
  },
  projectionEventsApplied: {
    name: 'EventsApplied',
    unit: MetricUnit.Count,
    emittedBy: 'projections',
    description: 'Events applied to the projections',
  },
  projectionDuplicatesSkipped: {
    name: 'DuplicatesSkipped',
    unit: MetricUnit.Count,
    emittedBy: 'projections',
    description: 'Events at or below the stored version, skipped as duplicates',
  },
  replayEventsRead: {
    name: 'ReplayEventsRead',
    unit: MetricUnit.Count,
    emittedBy: 'replayObject',
    description: 'Archived events a replay read',
  },
  replayEventsApplied: {
    name: 'ReplayEventsApplied',
    unit: MetricUnit.Count,
    emittedBy: 'replayObject',
    description: 'Archived events a replay applied to projections or republished to the stream',
  },
  canaryHopFailed: {
    name: 'CanaryHopFailed',
    unit: MetricUnit.Count,
    emittedBy: 'canary',
    description: 'Per canary run and hop (dimension Hop, one of PIPELINE_HOPS): 1 when the hop failed, 0 when it was ok',
  },
} as const satisfies Record<string, MetricDefinition>;

/** The dimension that names the hop of a canary metric (application/pipeline-verification.ts PIPELINE_HOPS). */
export const CANARY_HOP_DIMENSION = 'Hop';

export type MetricKey = keyof typeof METRIC;

export function metricsNamespaceFor(stage: string): string {
  return `${METRICS_NAMESPACE}/${stage}`;
}
