import type { MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { checkAlarmDelivery, pickAlarm, queueArnBeside, type AlarmDeliveryClients } from './alarm-delivery-check';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:qa-cart-alarms';
const START = Date.UTC(2026, 11, 5, 11, 0);

function alarm(name: string, overrides: Partial<MetricAlarm> = {}): MetricAlarm {
  return { AlarmName: `qa-cart-${name}`, StateValue: 'OK', ActionsEnabled: true, AlarmActions: [TOPIC], OKActions: [TOPIC], Period: 60, EvaluationPeriods: 1, ...overrides };
}

interface Sent {
  readonly command: string;
  readonly input: Record<string, any>;
}

/**
 * Scripted CloudWatch, SNS and SQS: records every request, and plays the topic. When `deliver` says so, setting an
 * alarm to ALARM puts SNS's JSON envelope of its notification on every subscribed queue, then the OK of its return.
 */
function scriptedAws(options: { alarms: MetricAlarm[]; deliver: 'both' | 'alarm-only' | 'none' | 'someone-elses'; history?: string[] }) {
  const sent: Sent[] = [];
  const queued: string[] = [];
  let clock = START;
  const record = (command: { constructor: { name: string }; input: unknown }) => sent.push({ command: command.constructor.name.replace(/Command$/, ''), input: command.input as Record<string, any> });
  const envelope = (message: Record<string, string>) => JSON.stringify({ Type: 'Notification', TopicArn: TOPIC, Message: JSON.stringify(message) });
  const clients: AlarmDeliveryClients = {
    cloudWatch: {
      send: (async (command: any) => {
        record(command);
        switch (command.constructor.name) {
          case 'DescribeAlarmsCommand':
            return { MetricAlarms: options.alarms };
          case 'SetAlarmStateCommand': {
            const { AlarmName, StateReason } = command.input;
            if (options.deliver === 'someone-elses') queued.push(envelope({ AlarmName, NewStateValue: 'ALARM', OldStateValue: 'OK', NewStateReason: 'another run' }));
            else if (options.deliver !== 'none') queued.push(envelope({ AlarmName, NewStateValue: 'ALARM', OldStateValue: 'OK', NewStateReason: StateReason }));
            if (options.deliver === 'both') queued.push(envelope({ AlarmName, NewStateValue: 'OK', OldStateValue: 'ALARM', NewStateReason: 'Threshold Crossed: no datapoints' }));
            return {};
          }
          case 'DescribeAlarmHistoryCommand':
            return { AlarmHistoryItems: (options.history ?? []).map((HistorySummary) => ({ HistorySummary })) };
          default:
            throw new Error(`unexpected ${command.constructor.name}`);
        }
      }) as never,
    },
    sns: {
      send: (async (command: any) => {
        record(command);
        if (command.constructor.name === 'SubscribeCommand') return { SubscriptionArn: `${TOPIC}:0f5e` };
        return {};
      }) as never,
    },
    sqs: {
      send: (async (command: any) => {
        record(command);
        switch (command.constructor.name) {
          case 'CreateQueueCommand':
            return { QueueUrl: `https://sqs.eu-west-1.amazonaws.com/123456789012/${command.input.QueueName}` };
          case 'ReceiveMessageCommand': {
            // A long poll: with nothing queued it waits its WaitTimeSeconds.
            if (queued.length === 0) clock += command.input.WaitTimeSeconds * 1000;
            const messages = queued.splice(0, 1).map((Body, index) => ({ Body, ReceiptHandle: `handle-${clock}-${index}` }));
            clock += 500;
            return { Messages: messages };
          }
          default:
            return {};
        }
      }) as never,
    },
  };
  const sleep = async (ms: number) => void (clock += ms);
  return { clients, sent, now: () => clock, sleep, of: (command: string) => sent.filter((entry) => entry.command === command) };
}

describe('verify --alarm-check', () => {
  it('subscribes a queue only the topic may send to, sets an OK alarm to ALARM, gets both notifications, and cleans up', async () => {
    const aws = scriptedAws({ alarms: [alarm('pipe-failures', { Period: 300 }), alarm('api-5xx'), alarm('replay-failed', { StateValue: 'ALARM' })], deliver: 'both' });
    const result = await checkAlarmDelivery(aws.clients, { stage: 'qa', topicArn: TOPIC, deadline: START + 600_000, now: aws.now, sleep: aws.sleep, runId: 'run-1' });
    expect(result).toMatchObject({ ok: true, alarmName: 'qa-cart-api-5xx', detail: expect.stringMatching(/ALARM notification reached a subscriber of .*qa-cart-alarms.*and the OK of its return/) });

    // The alarm is set only once the queue is subscribed (and the subscription had a moment to settle).
    expect(aws.sent.slice(0, 4).map((entry) => entry.command)).toEqual(['DescribeAlarms', 'CreateQueue', 'Subscribe', 'SetAlarmState']);
    expect(aws.of('DescribeAlarms')[0]!.input).toMatchObject({ AlarmNamePrefix: 'qa-cart-', AlarmTypes: ['MetricAlarm'] });
    const [create] = aws.of('CreateQueue');
    const queueName = `qa-cart-alarm-check-${START}`;
    expect(create!.input).toMatchObject({ QueueName: queueName, Attributes: { SqsManagedSseEnabled: 'true' } });
    expect(JSON.parse(create!.input.Attributes.Policy)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'AlarmTopicOnly',
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: `arn:aws:sqs:eu-west-1:123456789012:${queueName}`,
          Condition: { ArnEquals: { 'aws:SourceArn': TOPIC } },
        },
      ],
    });
    expect(aws.of('Subscribe')[0]!.input).toEqual({ TopicArn: TOPIC, Protocol: 'sqs', Endpoint: `arn:aws:sqs:eu-west-1:123456789012:${queueName}`, ReturnSubscriptionArn: true });
    // The alarm that returns soonest (1-minute period) of those that are OK; one in ALARM would send nothing.
    expect(aws.of('SetAlarmState')).toEqual([{ command: 'SetAlarmState', input: { AlarmName: 'qa-cart-api-5xx', StateValue: 'ALARM', StateReason: expect.stringContaining('run-1') } }]);
    expect(aws.of('ReceiveMessage')[0]!.input).toMatchObject({ WaitTimeSeconds: 20 });
    expect(aws.of('DeleteMessageBatch').length).toBeGreaterThan(0);
    // The subscription goes before the queue; both go.
    expect(aws.sent.slice(-2)).toEqual([
      { command: 'Unsubscribe', input: { SubscriptionArn: `${TOPIC}:0f5e` } },
      { command: 'DeleteQueue', input: { QueueUrl: `https://sqs.eu-west-1.amazonaws.com/123456789012/${queueName}` } },
    ]);
  });

  it('fails when no notification arrives, quoting the alarm history, within the deadline, and still cleans up', async () => {
    const aws = scriptedAws({ alarms: [alarm('api-5xx')], deliver: 'none', history: ['Failed to execute action arn:aws:sns:eu-west-1:123456789012:qa-cart-alarms. Received error: "CloudWatch Alarms does not have authorization to access the SNS topic encryption key."'] });
    const result = await checkAlarmDelivery(aws.clients, { stage: 'qa', topicArn: TOPIC, deadline: START + 90_000, now: aws.now, sleep: aws.sleep, runId: 'run-2' });
    expect(result.ok).toBe(false);
    expect(result.detail).toMatch(/no ALARM notification within --timeout; alarm history: Failed to execute action .*encryption key/);
    expect(result.likelyCauses!.join(' ')).toMatch(/AllowCloudWatchAlarmsToPublish.*AllowCloudWatchAlarmsToUseTheTopicKey/);
    expect(aws.of('DescribeAlarmHistory')[0]!.input).toMatchObject({ AlarmName: 'qa-cart-api-5xx', HistoryItemType: 'Action' });
    expect(aws.now()).toBeLessThanOrEqual(START + 90_000 + 1_000);
    expect(aws.sent.slice(-2).map((entry) => entry.command)).toEqual(['Unsubscribe', 'DeleteQueue']);
  });

  it("fails without the OK notification of the return, and does not count another run's ALARM", async () => {
    const alarmOnly = scriptedAws({ alarms: [alarm('api-5xx')], deliver: 'alarm-only' });
    expect((await checkAlarmDelivery(alarmOnly.clients, { stage: 'qa', topicArn: TOPIC, deadline: START + 60_000, now: alarmOnly.now, sleep: alarmOnly.sleep, runId: 'run-3' })).detail).toContain('no OK notification');
    const other = scriptedAws({ alarms: [alarm('api-5xx')], deliver: 'someone-elses' });
    expect((await checkAlarmDelivery(other.clients, { stage: 'qa', topicArn: TOPIC, deadline: START + 60_000, now: other.now, sleep: other.sleep, runId: 'run-4' })).detail).toContain('no ALARM notification');
  });

  it('sets no alarm when none is OK and acting on the topic, and says why', async () => {
    const aws = scriptedAws({ alarms: [alarm('api-5xx', { StateValue: 'ALARM' }), alarm('pipe-failures', { OKActions: [] })], deliver: 'both' });
    const result = await checkAlarmDelivery(aws.clients, { stage: 'qa', topicArn: TOPIC, deadline: START + 60_000, now: aws.now });
    expect(result).toMatchObject({ ok: false, detail: expect.stringContaining('qa-cart-api-5xx ALARM') });
    expect(aws.of('SetAlarmState')).toEqual([]);
    expect(aws.of('CreateQueue')).toEqual([]);
    expect(pickAlarm([], TOPIC)).toContain('no alarm to set');
  });

  it('makes the queue beside the topic (its partition, region and account)', () => {
    expect(queueArnBeside('arn:aws-cn:sns:cn-north-1:111122223333:t', 'q')).toBe('arn:aws-cn:sqs:cn-north-1:111122223333:q');
    expect(() => queueArnBeside('not-an-arn', 'q')).toThrow('not a topic ARN');
  });
});
