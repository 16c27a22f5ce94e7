import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { metrics, publishStoredMetrics } from './observability';

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
    metrics.addDimension('route', 'GET /carts');
    expect(captured(publishStoredMetrics)).toBe('');
  });

  test('recorded metrics are still published as EMF, without the dimensions of an earlier empty invocation', () => {
    metrics.addDimension('route', 'GET /carts');
    publishStoredMetrics();
    metrics.addMetric('RequestsSucceeded', MetricUnit.Count, 1);
    const output = captured(publishStoredMetrics);
    const emf = JSON.parse(output.trim().split('\n').find((line) => line.includes('_aws'))!);
    expect(emf.RequestsSucceeded).toBe(1);
    expect(emf.route).toBeUndefined();
  });
});
