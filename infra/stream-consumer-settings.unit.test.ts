import { KINESIS_CONSUMERS } from '../lambdas/consumers';
import { streamConsumers } from './stream-consumer-settings';
import { synthesizeForTests } from './testing';

describe('consumer parallelization factor (CDK context <consumer>ParallelizationFactor)', () => {
  test('1 for every consumer unless set; out-of-range factors are refused', () => {
    expect(streamConsumers().map((c) => c.parallelizationFactor)).toEqual(Object.keys(KINESIS_CONSUMERS).map(() => 1));
    expect(streamConsumers({ projections: 10 }).find((c) => c.name === 'projections')!.parallelizationFactor).toBe(10);
    expect(() => streamConsumers({ eventLog: 11 })).toThrow(/eventLog: parallelizationFactor must be an integer from 1 to 10/);
  });

  test('the synthesized event source mapping carries the context value', () => {
    const { template } = synthesizeForTests({ projectionsParallelizationFactor: '4' });
    const factors = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'))
      .map((mapping) => (mapping as { Properties: { ParallelizationFactor?: number } }).Properties.ParallelizationFactor)
      .sort();
    expect(factors).toEqual([1, 4]);
  }, 180_000);
});
