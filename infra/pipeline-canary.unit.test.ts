import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PIPELINE_HOPS } from '../application/pipeline-verification';
import { ENV } from '../lambdas/environment';
import { CANARY_HOP_DIMENSION, METRIC, metricsNamespaceFor } from '../lambdas/metric-names';
import { PROJECT_ROOT } from './constructs/registry-functions';
import { synthesizeForTests, type SynthesizedStack } from './testing';

/** The pipeline canary on AWS (issue 23): the schedule, the alarm, its metric, its grants; and none of it when off. */
let on: SynthesizedStack;
let off: SynthesizedStack;

beforeAll(() => {
  on = synthesizeForTests();
  off = synthesizeForTests({ canarySchedule: 'off' });
}, 240_000);

type Resources = Record<string, { Properties: Record<string, any> }>;
const resourcesOf = (synthesized: SynthesizedStack, type: string) => synthesized.template.findResources(type) as Resources;
const canaryAlarm = (synthesized: SynthesizedStack) => Object.values(resourcesOf(synthesized, 'AWS::CloudWatch::Alarm')).find((alarm) => alarm.Properties.AlarmName === 'dev-cart-canary');
const canaryPolicyStatements = (synthesized: SynthesizedStack) => {
  const role = synthesized.stack.getLogicalId(synthesized.stack.functions.get('canary').role!.node.defaultChild as never);
  return Object.values(resourcesOf(synthesized, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${role}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
};

describe('the pipeline canary on AWS', () => {
  test('an EventBridge Scheduler schedule invokes the canary Lambda every 5 minutes by default, without retries', () => {
    const schedules = Object.values(resourcesOf(on, 'AWS::Scheduler::Schedule'));
    expect(schedules).toHaveLength(1);
    const schedule = schedules[0]!.Properties;
    expect(schedule).toMatchObject({ Name: 'dev-cart-canary', ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED', FlexibleTimeWindow: { Mode: 'OFF' } });
    expect(on.stack.resolve(schedule.Target.Arn)).toEqual(on.stack.resolve(on.stack.functions.get('canary').functionArn));
    expect(schedule.Target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: 0 });
    const invokeConfigs = Object.values(resourcesOf(on, 'AWS::Lambda::EventInvokeConfig')).map((config) => config.Properties);
    expect(invokeConfigs).toContainEqual(expect.objectContaining({ MaximumRetryAttempts: 0, FunctionName: on.stack.resolve(on.stack.functions.get('canary').functionName) }));
  });

  test('canarySchedule changes the rate', () => {
    const hourly = synthesizeForTests({ canarySchedule: 'rate(1 hour)' });
    expect(Object.values(resourcesOf(hourly, 'AWS::Scheduler::Schedule'))[0]!.Properties.ScheduleExpression).toBe('rate(1 hour)');
    // The alarm's window spans two intervals (each holds a finished run), capped at CloudWatch's one day.
    expect(new Set(canaryAlarm(hourly)!.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Period))).toEqual(new Set([7_200]));
  }, 120_000);

  test('the alarm <stage>-cart-canary fires when any hop emitted CanaryHopFailed=1, and when no run reported at all', () => {
    const alarm = canaryAlarm(on)!.Properties;
    expect(alarm).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, EvaluationPeriods: 1, TreatMissingData: 'breaching' });
    const expression = alarm.Metrics.find((metric: any) => metric.Expression);
    expect(expression).toMatchObject({ Expression: expect.stringMatching(/^MAX\(\[/), ReturnData: true });
    const hops = alarm.Metrics.filter((metric: any) => metric.MetricStat).map((metric: any) => metric.MetricStat);
    expect(hops.map((stat: any) => stat.Metric.Dimensions.find((d: any) => d.Name === CANARY_HOP_DIMENSION).Value).sort()).toEqual([...PIPELINE_HOPS].sort());
    for (const stat of hops) {
      expect(stat).toMatchObject({ Stat: 'Maximum', Period: 600, Metric: { Namespace: metricsNamespaceFor('dev'), MetricName: METRIC.canaryHopFailed.name } });
      expect(stat.Metric.Dimensions).toContainEqual({ Name: 'service', Value: 'canary' });
    }
    expect(alarm.AlarmActions).toHaveLength(1);
  });

  test('the alarm has its runbook row', () => {
    expect(readFileSync(join(PROJECT_ROOT, 'docs/operating-on-aws.md'), 'utf8')).toContain('| `canary` |');
  });

  test('canarySchedule=off: no schedule and no canary alarm (the function stays, to be invoked by hand)', () => {
    expect(Object.keys(resourcesOf(off, 'AWS::Scheduler::Schedule'))).toEqual([]);
    expect(canaryAlarm(off)).toBeUndefined();
    expect(off.stack.functions.has('canary')).toBe(true);
  });

  test('its role gets the calls its probe makes, on exactly those resources', () => {
    const statements = canaryPolicyStatements(on);
    const actions = new Set(statements.flatMap((statement) => [statement.Action].flat()));
    for (const action of ['execute-api:Invoke', 'dynamodb:Query', 'kinesis:GetRecords', 'kinesis:ListShards', 'kinesis:GetShardIterator', 's3:ListBucket', 's3:GetObject', 'states:StartExecution', 'states:DescribeExecution', 'logs:FilterLogEvents', 'sqs:GetQueueAttributes']) {
      expect({ action, granted: actions.has(action) }).toEqual({ action, granted: true });
    }
    // Reads only: nothing that writes a store, the stream or a queue (the probe writes through the API).
    expect([...actions].filter((action) => /^(dynamodb:(Put|Update|Delete|BatchWrite|TransactWrite)|kinesis:Put|s3:(Put|Delete)|sqs:(Send|Delete|Purge|Receive))/.test(action))).toEqual([]);
    const invoke = statements.find((statement) => [statement.Action].flat().includes('execute-api:Invoke'))!;
    expect(JSON.stringify(invoke.Resource)).not.toMatch(/\/\*\/\*"/);
    const described = statements.find((statement) => [statement.Action].flat().includes('states:DescribeExecution'))!;
    expect(JSON.stringify(described.Resource)).toContain(':execution:dev-replay:verify-*');
  });

  test('the function learns the API, the replay machine, the event log\'s group and the dead-letter queues from its environment', () => {
    const fn = on.stack.getLogicalId(on.stack.functions.get('canary').node.defaultChild as never);
    const variables = resourcesOf(on, 'AWS::Lambda::Function')[fn]!.Properties.Environment.Variables;
    for (const name of [ENV.canaryApiUrl, ENV.replayStateMachineArn, ENV.eventLogLogGroup, ENV.deadLetterQueueUrls, ENV.eventStoreTable, ENV.eventsStream, ENV.archiveBucket]) {
      expect({ name, set: variables[name] !== undefined }).toEqual({ name, set: true });
    }
  });
});

describe('the runbook', () => {
  test('every alarm of the stack has its row in docs/operating-on-aws.md', () => {
    const runbook = readFileSync(join(PROJECT_ROOT, 'docs/operating-on-aws.md'), 'utf8');
    const rows = [...runbook.matchAll(/^\| `([^`]+)`(?: \/ `([^`]+)`)? \|/gm)].flatMap((match) => match.slice(1).filter(Boolean)) as string[];
    const patterns = rows.map((row) => new RegExp(`^${row.replace(/<[a-z]+>/g, '.+')}$`));
    const alarms = Object.values(resourcesOf(on, 'AWS::CloudWatch::Alarm')).map((alarm) => String(alarm.Properties.AlarmName).replace(/^dev-cart-/, ''));
    expect(alarms.length).toBeGreaterThan(10);
    expect(alarms.filter((name) => !patterns.some((pattern) => pattern.test(name)))).toEqual([]);
  });
});
