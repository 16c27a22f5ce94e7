import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One logger, metrics and tracer per process, configured by the POWERTOOLS_* variables that CDK sets per
 * function (service name, namespace) and that the local stack sets for all of them.
 */
export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();

/**
 * Ends an invocation's metrics. Powertools' publishStoredMetrics() sends nothing when the invocation recorded no
 * metric (a refused or failed request, a thrown batch) but logs "No application metrics to publish" each time:
 * with nothing recorded, skip it and only clear what the invocation may have set.
 */
export function publishStoredMetrics(): void {
  if (metrics.hasStoredMetrics()) {
    metrics.publishStoredMetrics();
    return;
  }
  metrics.clearDimensions();
  metrics.clearMetadata();
}
