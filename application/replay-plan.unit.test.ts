import { POINTER_CACHE_MS } from './generations';
import { defaultRetireAfterSeconds, planReplay } from './replay';

const plan = (input: unknown, retireAfterSeconds: number) =>
  planReplay({ input, executionName: 'x', startedAt: new Date(0).toISOString() }, ['cart-summary', 'item-popularity'], { retireAfterSeconds });

describe('a rebuild\'s default wait before retiring the old generation', () => {
  test('covers the longest invocation that may have started before the switch, plus the pointer cache', () => {
    expect(POINTER_CACHE_MS).toBe(1_000);
    expect(defaultRetireAfterSeconds(900, POINTER_CACHE_MS)).toBe(901);
    expect(defaultRetireAfterSeconds(30, 1_500)).toBe(32);
    expect(defaultRetireAfterSeconds(86_400, POINTER_CACHE_MS)).toBe(43_200);
    expect(() => defaultRetireAfterSeconds(1.5, POINTER_CACHE_MS)).toThrow(/whole number/);
  });

  test('the plan takes the deployment\'s default unless the input names one', () => {
    const byDefault = plan({ target: 'projections', rebuild: true }, 31);
    expect(byDefault.valid && byDefault.replay.retireAfterSeconds).toBe(31);
    const given = plan({ target: 'projections', rebuild: true, retireAfterSeconds: 0 }, 31);
    expect(given.valid && given.replay.retireAfterSeconds).toBe(0);
  });
});
