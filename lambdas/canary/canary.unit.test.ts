import { Metrics } from '@aws-lambda-powertools/metrics';
import { PIPELINE_HOPS } from '../../application/pipeline-verification';
import { CART, healthyProbe, STORED } from '../../application/pipeline-verification.testing';
import { runCanary } from './canary';

/** The EMF documents Powertools writes to stdout (as on Lambda, where CloudWatch turns them into metrics). */
async function emitted(run: (metrics: Metrics) => Promise<unknown>): Promise<{ hop: string; failed: number; namespace: string; dimensions: string[][]; service: string }[]> {
  const lines: string[] = [];
  // As on Lambda, whatever the test run's environment says: the local stack's settings, which `npm test` exports to
  // every jest worker, turn metrics off (POWERTOOLS_METRICS_DISABLED=true), and POWERTOOLS_DEV would send them to
  // jest's console instead of stdout.
  const saved = { disabled: process.env.POWERTOOLS_METRICS_DISABLED, dev: process.env.POWERTOOLS_DEV };
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  delete process.env.POWERTOOLS_DEV;
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (lines.push(String(chunk)), true));
  try {
    await run(new Metrics({ namespace: 'CdcCart/test', serviceName: 'canary' }));
  } finally {
    write.mockRestore();
    for (const [name, value] of [['POWERTOOLS_METRICS_DISABLED', saved.disabled], ['POWERTOOLS_DEV', saved.dev]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line))
    .map((document) => ({
      hop: document.Hop,
      failed: document.CanaryHopFailed,
      namespace: document._aws.CloudWatchMetrics[0].Namespace,
      dimensions: document._aws.CloudWatchMetrics[0].Dimensions,
      service: document.service,
    }));
}

const quietLogger = () => ({ info: jest.fn(), error: jest.fn() });

describe('runCanary: one metric per hop', () => {
  it('emits CanaryHopFailed=0 for every hop of a healthy pipeline, with its Hop dimension', async () => {
    const logger = quietLogger();
    const documents = await emitted((metrics) => runCanary({ probe: healthyProbe(), timeoutMs: 5_000, metrics, logger }));
    expect(documents.map((document) => document.hop)).toEqual([...PIPELINE_HOPS]);
    for (const document of documents) expect(document).toMatchObject({ failed: 0, namespace: 'CdcCart/test', service: 'canary', dimensions: [['service', 'Hop']] });
    expect(logger.info).toHaveBeenCalledWith('canary: every hop ok', expect.objectContaining({ cartId: CART }));
  });

  it('a failing hop emits CanaryHopFailed=1 for that hop (and for what could not be checked after it), and logs the FAIL', async () => {
    const logger = quietLogger();
    // The Pipe's target keyed the records by something else than the cart id: the kinesis hop fails at once.
    const probe = healthyProbe({ pollIntervalMs: 1, streamRecords: async () => STORED.map((event) => ({ partitionKey: 'wrong', envelope: event })) });
    const documents = await emitted((metrics) => runCanary({ probe, timeoutMs: 2_000, metrics, logger }));
    const failed = Object.fromEntries(documents.map((document) => [document.hop, document.failed]));
    expect(failed).toEqual({ api: 0, 'event-store': 0, kinesis: 1, 'event-log': 0, projections: 0, archive: 0, replay: 0, 'dead-letters': 0 });
    expect(logger.error).toHaveBeenCalledWith('canary: FAIL kinesis', expect.objectContaining({ hops: expect.any(Array) }));
  });

  it('a run whose API is down fails api and every hop that needs it', async () => {
    const probe = healthyProbe({ pollIntervalMs: 1, openProbeCart: async () => Promise.reject(new Error('403 Forbidden')) });
    const documents = await emitted((metrics) => runCanary({ probe, timeoutMs: 2_000, metrics, logger: quietLogger() }));
    expect(documents.filter((document) => document.failed === 1).map((document) => document.hop)).toEqual(['api', 'event-store', 'kinesis', 'event-log', 'projections', 'archive', 'replay']);
  });
});
