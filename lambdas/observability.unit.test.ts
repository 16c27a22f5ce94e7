import { MetricUnit } from '@aws-lambda-powertools/metrics';

// In a full `npm test` the integration run's global setup exports the local stack's handler environment, metrics
// disabled, to every worker: load the module with metrics on, as on AWS.
let observability: typeof import('./observability');
const disabledBefore = process.env.POWERTOOLS_METRICS_DISABLED;
beforeAll(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  jest.isolateModules(() => {
    observability = require('./observability');
  });
});
afterAll(() => {
  if (disabledBefore === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = disabledBefore;
});

function captured(run: () => void): string {
  const written: string[] = [];
  const spies = [process.stdout, process.stderr].map((stream) =>
    jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }),
  );
  try {
    run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  return written.join('');
}

describe('publishStoredMetrics', () => {
  test('an invocation that recorded no metric writes nothing (no "No application metrics to publish" warning)', () => {
    observability.metrics.addDimension('route', 'GET /carts');
    expect(captured(observability.publishStoredMetrics)).toBe('');
  });

  test('recorded metrics are still published as EMF, without the dimensions of an earlier empty invocation', () => {
    observability.metrics.addDimension('route', 'GET /carts');
    observability.publishStoredMetrics();
    observability.metrics.addMetric('RequestsSucceeded', MetricUnit.Count, 1);
    const output = captured(observability.publishStoredMetrics);
    const emf = JSON.parse(output.trim().split('\n').find((line) => line.includes('_aws'))!);
    expect(emf.RequestsSucceeded).toBe(1);
    expect(emf.route).toBeUndefined();
  });
});
