import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { verifyPipeline, type PipelineProbe, type VerificationReport } from '../../application/pipeline-verification';
import { CANARY_HOP_DIMENSION, METRIC } from '../metric-names';

export interface CanaryRun {
  readonly probe: PipelineProbe;
  /** How long the hops after api wait for the pipeline (verify's --timeout, VerifyOptions.timeoutMs). */
  readonly timeoutMs: number;
  /** Epoch ms that no hop waits past: on AWS, the function's timeout less the time to publish. */
  readonly endBy?: number;
  readonly metrics: Pick<Metrics, 'singleMetric'>;
  readonly logger: Pick<Logger, 'info' | 'error'>;
}

/**
 * One canary run: `cdc-cart verify`'s hops (application/pipeline-verification.ts) against the running pipeline, on
 * AWS (lambdas/canary/handler.ts, on a schedule) and locally (local/canary, beside npm start). Each hop emits
 * CanaryHopFailed (1 failed, 0 ok) with its Hop dimension, so that a graph shows which hop broke and the alarm
 * `<stage>-cart-canary` fires on any of them; a run that never ends emits nothing, which the alarm treats as breaching.
 */
export async function runCanary(run: CanaryRun): Promise<VerificationReport> {
  const report = await verifyPipeline(run.probe, { timeoutMs: run.timeoutMs, endBy: run.endBy });
  for (const hop of report.hops) {
    // One EMF document per hop: a document carries one set of dimension values, and each hop has its own.
    const metric = run.metrics.singleMetric();
    metric.addDimension(CANARY_HOP_DIMENSION, hop.hop);
    metric.addMetric(METRIC.canaryHopFailed.name, METRIC.canaryHopFailed.unit, hop.ok ? 0 : 1);
  }
  const failed = report.hops.filter((hop) => !hop.ok);
  const summary = { cartId: report.cartId, ms: report.ms, hops: report.hops };
  if (failed.length === 0) run.logger.info('canary: every hop ok', summary);
  else run.logger.error(`canary: FAIL ${failed.map((hop) => hop.hop).join(', ')}`, summary);
  return report;
}
