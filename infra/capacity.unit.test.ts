import { AWS_QUOTAS, ASSUMED_COSTS, capacityPlan, measuredCostsFrom } from './capacity';

const units = (plan: ReturnType<typeof capacityPlan>, component: string) => plan.components.find((c) => c.component === component)!.units;

describe('capacity plan', () => {
  test('10,000 one-event commands/s need at least 10 provisioned shards (1,000 records/s each), and the plan sets kinesisShardCount', () => {
    const plan = capacityPlan({ commandsPerSecond: 10_000 });
    expect(units(plan, 'Kinesis events stream').minimumShards).toBeGreaterThanOrEqual(10);
    expect(plan.context.kinesisShardCount).toBeGreaterThanOrEqual(10);
    for (const limit of plan.limits.filter((l) => l.component.startsWith('Kinesis (provisioned)'))) expect(limit.utilisation).toBeLessThan(1);
  });

  test('100 commands/s fit on-demand with every limit far from binding', () => {
    const plan = capacityPlan({ commandsPerSecond: 100 });
    expect(plan.context.kinesisShardCount).toBe(0);
    expect(plan.firstBinding.bindsNow).toBe(false);
    expect(plan.monthlyCostUsd.total).toBeGreaterThan(0);
  });

  test('a hot cart beyond 1,000 WCU/s binds on its DynamoDB partition (and its Kinesis shard)', () => {
    const plan = capacityPlan({ commandsPerSecond: 8_000, hotCartShare: 0.25 });
    const partition = plan.limits.find((l) => l.component === 'hot cart (DynamoDB partition)' && l.limit.startsWith('write'))!;
    expect(partition.used).toBe(2_000);
    expect(partition.available).toBe(AWS_QUOTAS.dynamoDbPartitionWcu.value);
    expect(partition.utilisation).toBe(2);
    expect(plan.firstBinding.bindsNow).toBe(true);
    expect(plan.firstBinding.component).toMatch(/hot cart/);
  });

  test('the first binding limit is the most used one; API Gateway\u2019s account quota binds at 10,000 requests/s', () => {
    const plan = capacityPlan({ commandsPerSecond: 12_000 });
    expect(plan.firstBinding.utilisation).toBe(Math.max(...plan.limits.map((l) => l.utilisation)));
    expect(plan.limits.find((l) => l.component === 'API Gateway')!.utilisation).toBeCloseTo(1.2);
  });

  test('consumers get a parallelization factor when a shard\u2019s events outrun one lane, at most 10', () => {
    const slow = { ...ASSUMED_COSTS, projectionEventsPerSecond: { value: 100, source: 'test' } };
    const plan = capacityPlan({ commandsPerSecond: 500, costs: slow });
    const perShard = units(plan, 'consumer projections').eventsPerSecondPerShard!;
    const factor = plan.context.projectionsParallelizationFactor!;
    expect(factor).toBeGreaterThan(1);
    expect(factor).toBeLessThanOrEqual(10);
    expect(perShard / (factor * 100)).toBeLessThanOrEqual(0.7);
  });

  test('cost scales with load through the cost model', () => {
    const low = capacityPlan({ commandsPerSecond: 100 }).monthlyCostUsd;
    const high = capacityPlan({ commandsPerSecond: 1_000 }).monthlyCostUsd;
    expect(high.perMillionCommands).toBeCloseTo(low.perMillionCommands, 1);
    expect((high.total - high.fixed) / (low.total - low.fixed)).toBeCloseTo(10, 1);
  });

  test('bad input is refused with the name of the problem', () => {
    expect(() => capacityPlan({ commandsPerSecond: 0 })).toThrow(/commandsPerSecond/);
    expect(() => capacityPlan({ commandsPerSecond: 10, hotCartShare: 2 })).toThrow(/hotCartShare/);
    expect(() => capacityPlan({ commandsPerSecond: 10, eventsPerCommand: 0 })).toThrow(/eventsPerCommand/);
  });

  test('per-record costs come from bench results when present, each naming its source; assumptions otherwise', () => {
    const costs = measuredCostsFrom({ entries: [{ name: 'consumers', ratios: [{ name: 'projection events/s, in order', subjectValue: 2500 }] }] });
    expect(costs.projectionEventsPerSecond).toEqual({ value: 2500, source: 'bench/results.json: consumers / "projection events/s, in order"' });
    expect(costs.enrichmentMicrosPerRecord.source).toMatch(/^model assumption/);
    expect(measuredCostsFrom(undefined)).toEqual(ASSUMED_COSTS);
  });
});
