import { canaryScheduleOf, consumerParallelizationFactors, loadDeploymentConfig } from './config';

const fromContext = (context: Record<string, unknown>) => loadDeploymentConfig((key) => context[key]);

describe('deployment configuration from CDK context', () => {
  test('defaults: stage dev, on-demand stream, IAM authorization, 30-day logs', () => {
    expect(fromContext({})).toMatchObject({ stage: 'dev', kinesisShardCount: 0, apiAuthorization: 'iam', logRetentionDays: 30, alarmConsumerIteratorAgeMs: 60_000 });
  });

  test('values given with -c arrive as strings and are coerced', () => {
    expect(fromContext({ stage: 'prod', kinesisShardCount: '4', alarmApiLatencyP99Ms: '750', logRetentionDays: '90' })).toMatchObject({
      stage: 'prod',
      kinesisShardCount: 4,
      alarmApiLatencyP99Ms: 750,
      logRetentionDays: 90,
    });
  });

  test.each([
    [{ stage: 'Prod!' }, /stage/],
    [{ logRetentionDays: '42' }, /logRetentionDays/],
    [{ kinesisShardCount: '-1' }, /kinesisShardCount/],
    [{ apiAuthorization: 'none' }, /apiAuthorization/],
    [{ apiAuthorization: 'jwt' }, /jwtIssuer and jwtAudience/],
    [{ alarmApi5xxPerMinute: 'many' }, /alarmApi5xxPerMinute/],
    [{ projectionsParallelizationFactor: '11' }, /projectionsParallelizationFactor/],
    [{ eventLogParallelizationFactor: '0' }, /eventLogParallelizationFactor/],
    [{ archiveInfrequentAccessAfterDays: '60', archiveGlacierInstantRetrievalAfterDays: '70' }, /at least 30 days after/],
  ])('refuses %j with a message naming the key', (context, message) => {
    expect(() => fromContext(context)).toThrow(message);
  });

  test('JWT authorization with its issuer and audience', () => {
    expect(fromContext({ apiAuthorization: 'jwt', jwtIssuer: 'https://issuer.example.com', jwtAudience: 'cart' })).toMatchObject({ apiAuthorization: 'jwt' });
  });

  test('each consumer has its own parallelization factor, 1 unless set', () => {
    expect(consumerParallelizationFactors(fromContext({}))).toEqual({ eventLog: 1, projections: 1 });
    expect(consumerParallelizationFactors(fromContext({ projectionsParallelizationFactor: '4' }))).toEqual({ eventLog: 1, projections: 4 });
  });
});

describe('canarySchedule: how often the pipeline canary runs on AWS', () => {
  test('every 5 minutes unless set; "off" turns it off; another rate changes it', () => {
    expect(canaryScheduleOf(fromContext({}))).toEqual({ expression: 'rate(5 minutes)', intervalSeconds: 300 });
    expect(canaryScheduleOf(fromContext({ canarySchedule: 'off' }))).toBeUndefined();
    expect(canaryScheduleOf(fromContext({ canarySchedule: 'rate(1 hour)' }))).toEqual({ expression: 'rate(1 hour)', intervalSeconds: 3_600 });
    expect(canaryScheduleOf(fromContext({ canarySchedule: 'rate(2 days)' }))).toEqual({ expression: 'rate(2 days)', intervalSeconds: 172_800 });
  });

  test.each(['rate(5 minute)', 'rate(1 minutes)', 'rate(0 minutes)', 'rate(5 seconds)', 'every 5 minutes', 'cron(0/5 * * * ? *)', 'rate(1.5 hours)', 'Off'])(
    'refuses %j with a message naming the key',
    (canarySchedule) => {
      expect(() => fromContext({ canarySchedule })).toThrow(/canarySchedule must be "off" or a rate expression/);
    },
  );

  test('with JWT authorization the canary (which signs with IAM) is off unless asked for, and asking for it is refused', () => {
    const jwt = { apiAuthorization: 'jwt', jwtIssuer: 'https://issuer.example.com', jwtAudience: 'cart' };
    expect(canaryScheduleOf(fromContext(jwt))).toBeUndefined();
    expect(() => fromContext({ ...jwt, canarySchedule: 'rate(5 minutes)' })).toThrow(/canarySchedule: the canary signs its API calls with IAM/);
  });
});
