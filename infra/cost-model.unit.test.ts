import { commandUnits, costPerMillionCommands, dynamoDbCostAtHistory, renderCostTables, WORKLOAD } from './cost-model';

describe('cost model', () => {
  test('this design writes one item per command whatever the history; the seed rewrites a growing item', () => {
    for (const history of [0, 10, 100, 1_000, 10_000]) expect(commandUnits('ours', history)!.write).toBe(1);
    const seedWrites = [0, 10, 100, 1_000].map((history) => commandUnits('seed', history)!.write);
    expect(seedWrites).toEqual([...seedWrites].sort((a, b) => a - b));
    expect(seedWrites.at(-1)).toBeGreaterThan(100);
  });

  test('the seed layout is impossible once a cart outgrows the 400 KB item', () => {
    const lastPossible = Math.floor((400 * 1024 - WORKLOAD.seedItemBaseBytes) / WORKLOAD.seedEventBytes) - 1;
    expect(commandUnits('seed', lastPossible)).toBeDefined();
    expect(commandUnits('seed', lastPossible + 1)).toBeUndefined();
    expect(dynamoDbCostAtHistory(10_000).seed).toBeUndefined();
  });

  test('one object per archived event makes the seed pay $5 of S3 PUTs per million events', () => {
    const s3 = costPerMillionCommands().find((line) => line.component.startsWith('S3 PUT'))!;
    expect(s3.seed).toBeCloseTo(5, 5);
    expect(s3.ours!).toBeLessThan(0.01);
  });

  test('the printed table carries every component and both totals', () => {
    const text = renderCostTables();
    for (const line of costPerMillionCommands()) expect(text).toContain(`| ${line.component} |`);
    expect(text).toMatch(/\*\*Total\*\*/);
    expect(text).toContain('impossible (item > 400 KB)');
  });
});
