import { runAsLambda } from '../../adapters/aws-call-recorder';
import { logger, metrics } from '../../lambdas/observability';
import { runCanary } from '../../lambdas/canary/canary';
import type { LocalComponent } from '../process/component';
import { localPipelineProbe } from '../verify/local-pipeline-probe';
import { CANARY_INTERVAL_VARIABLE, CanaryLoop, parseCanaryInterval } from './canary-loop';

/** Like `cdc-cart verify` locally: the local pipeline answers within seconds, the archiver flushes every 2 s. */
const LOCAL_CANARY_TIMEOUT_MS = 45_000;

/**
 * The canary beside `npm start`: the same run as the canary Lambda on AWS (lambdas/canary/canary.ts) with the local
 * probe, every CANARY_INTERVAL_SECONDS (--canary-interval; 0: off). Its AWS calls are recorded as the `canary`
 * function's (IAM evidence), since on AWS the same hops run under that function's role. A FAIL is logged as an
 * error, so npm start shows it; the console's Pipeline view shows each run hop by hop.
 */
export const canaryComponent: LocalComponent = {
  name: 'canary',
  async start(config) {
    const loop = new CanaryLoop(config.dataDir, parseCanaryInterval(process.env[CANARY_INTERVAL_VARIABLE]), () =>
      runAsLambda('canary', () => runCanary({ probe: localPipelineProbe(config), timeoutMs: LOCAL_CANARY_TIMEOUT_MS, metrics, logger })),
    );
    // A probe per run: the probe keeps the archive objects it read, which is right for one run only.
    loop.start();
    return { stop: () => loop.stop() };
  },
};
