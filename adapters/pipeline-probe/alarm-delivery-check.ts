import { DescribeAlarmHistoryCommand, DescribeAlarmsCommand, SetAlarmStateCommand, type CloudWatchClient, type MetricAlarm } from '@aws-sdk/client-cloudwatch';
import { ConfirmSubscriptionCommand, SubscribeCommand, UnsubscribeCommand, type SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteMessageBatchCommand, DeleteQueueCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * `cdc-cart verify --aws --alarm-check`: proves that an alarm of the stage reaches its SNS topic and that the topic
 * delivers, end to end, with what an operator's subscriber would get. CloudWatch's own history says only that the
 * action ran; a refused key (the topic is KMS-encrypted) shows up as a notification that never arrives.
 *
 * 1. A temporary SQS queue, whose policy lets only this topic send to it, subscribed to the alarm topic.
 * 2. SetAlarmState to ALARM on an alarm of the stage that is OK and acts on the topic (CloudWatch API reference,
 *    SetAlarmState: "temporarily changing the alarm state to ALARM sends an SNS message"; a metric alarm "returns
 *    to [its] actual state quickly, often within seconds", which sends the OK notification).
 * 3. Both notifications are read from the queue: ALARM (with this run's reason, so nobody else's counts) and the
 *    OK that follows it.
 * 4. The subscription and the queue are removed, whatever happened. On a FAIL the alarm's Action history (DescribeAlarmHistory)
 *    names the refusal, e.g. "Failed to execute action ...".
 */
export interface AlarmDeliveryClients {
  readonly cloudWatch: Pick<CloudWatchClient, 'send'>;
  readonly sns: Pick<SNSClient, 'send'>;
  readonly sqs: Pick<SQSClient, 'send'>;
}

export interface AlarmDeliveryResult {
  readonly ok: boolean;
  readonly ms: number;
  /** The alarm that was set to ALARM, when one was. */
  readonly alarmName?: string;
  readonly detail: string;
  readonly likelyCauses?: readonly string[];
}

export interface AlarmCheckOptions {
  readonly stage: string;
  readonly topicArn: string;
  /** Epoch ms by which the check must end (the verify run's --timeout). */
  readonly deadline: number;
  readonly now?: () => number;
  /** Tells this run's notification apart from any other (defaults to the time). */
  readonly runId?: string;
  readonly sleep?: (ms: number) => Promise<void>;
}

export const ALARM_CHECK_LIKELY_CAUSES: readonly string[] = [
  "the alarm topic's policy (statement AllowCloudWatchAlarmsToPublish: alarms named <stage>-cart-* of this account)",
  "the topic key's policy (statement AllowCloudWatchAlarmsToUseTheTopicKey: cloudwatch.amazonaws.com may use the key)",
  'the alarm history: aws cloudwatch describe-alarm-history --alarm-name <alarm> --history-item-type Action',
];

/**
 * AWS's SDK documentation of subscribing a queue (SubscribeQueue): "There might be a small time period immediately
 * after subscribing the SQS queue to the SNS topic and updating the SQS queue's policy, where messages are not able
 * to be delivered to the queue." The alarm is set only after this pause.
 */
const SUBSCRIPTION_SETTLE_MS = 5_000;

/** Long polls of at most this long (SQS allows 20 s), so that the deadline is kept. */
const MAX_WAIT_SECONDS = 20;

export async function checkAlarmDelivery(clients: AlarmDeliveryClients, options: AlarmCheckOptions): Promise<AlarmDeliveryResult> {
  const now = options.now ?? Date.now;
  const started = now();
  const runId = options.runId ?? new Date(started).toISOString().replace(/[:.]/g, '-');
  const reason = `cdc-cart verify --alarm-check ${runId}: proving alarm delivery, not an incident`;
  const fail = (detail: string, alarmName?: string): AlarmDeliveryResult => ({ ok: false, ms: now() - started, ...(alarmName ? { alarmName } : {}), detail, likelyCauses: ALARM_CHECK_LIKELY_CAUSES });

  const alarm = pickAlarm(await stageAlarms(clients.cloudWatch, options.stage), options.topicArn);
  if (typeof alarm === 'string') return fail(alarm);
  const alarmName = alarm.AlarmName!;

  const queueName = `${options.stage}-cart-alarm-check-${started}`.slice(0, 80);
  const queueArn = queueArnBeside(options.topicArn, queueName);
  const cleanup: string[] = [];
  let queueUrl: string | undefined;
  let subscriptionArn: string | undefined;
  const result = await (async (): Promise<AlarmDeliveryResult> => {
    try {
      ({ QueueUrl: queueUrl } = await clients.sqs.send(
        new CreateQueueCommand({
          QueueName: queueName,
          Attributes: { SqsManagedSseEnabled: 'true', MessageRetentionPeriod: '900', Policy: JSON.stringify(queuePolicyFor(queueArn, options.topicArn)) },
        }),
      ));
      ({ SubscriptionArn: subscriptionArn } = await clients.sns.send(new SubscribeCommand({ TopicArn: options.topicArn, Protocol: 'sqs', Endpoint: queueArn, ReturnSubscriptionArn: true })));
      await (options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))))(SUBSCRIPTION_SETTLE_MS);
    const setAt = new Date(now());
      await clients.cloudWatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: 'ALARM', StateReason: reason }));

      let alarmAt: number | undefined;
      let okAt: number | undefined;
      while (okAt === undefined && now() < options.deadline) {
        const waitSeconds = Math.max(1, Math.min(MAX_WAIT_SECONDS, Math.floor((options.deadline - now()) / 1000)));
        const { Messages } = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }));
        for (const message of Messages ?? []) {
          const notification = parseNotification(message.Body);
          // Same-account SQS subscriptions are confirmed at once; a confirmation request is answered all the same.
          if (notification?.type === 'SubscriptionConfirmation') await clients.sns.send(new ConfirmSubscriptionCommand({ TopicArn: options.topicArn, Token: notification.token }));
          if (notification?.type !== 'Notification' || notification.alarm.AlarmName !== alarmName) continue;
          if (notification.alarm.NewStateValue === 'ALARM' && notification.alarm.NewStateReason?.includes(runId)) alarmAt ??= now();
          else if (alarmAt !== undefined && notification.alarm.NewStateValue === 'OK' && notification.alarm.OldStateValue === 'ALARM') okAt = now();
        }
        const handles = (Messages ?? []).flatMap((message, index) => (message.ReceiptHandle ? [{ Id: String(index), ReceiptHandle: message.ReceiptHandle }] : []));
        if (handles.length > 0) await clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: handles }));
      }
      if (alarmAt !== undefined && okAt !== undefined) {
        return { ok: true, ms: now() - started, alarmName, detail: `${alarmName} set to ALARM: its ALARM notification reached a subscriber of ${options.topicArn} after ${((alarmAt - setAt.getTime()) / 1000).toFixed(1)} s, and the OK of its return after ${((okAt - setAt.getTime()) / 1000).toFixed(1)} s` };
      }
      const history = await lastActionHistory(clients.cloudWatch, alarmName, setAt);
      const missing = alarmAt === undefined ? 'no ALARM notification' : 'the ALARM notification, but no OK notification of its return';
      return fail(`${alarmName} set to ALARM; a subscriber of the topic got ${missing} within --timeout${history ? `; alarm history: ${history}` : ''}`, alarmName);
    } catch (error) {
      return fail(`${(error as Error).name}: ${(error as Error).message}`, alarmName);
    }
  })();
  // Whatever happened: the subscription and the queue go (a run killed here leaves a queue named after the check).
  if (subscriptionArn?.startsWith('arn:')) await clients.sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn })).catch((error: Error) => cleanup.push(`aws sns unsubscribe --subscription-arn ${subscriptionArn} (${error.message})`));
  if (queueUrl) await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch((error: Error) => cleanup.push(`aws sqs delete-queue --queue-url ${queueUrl} (${error.message})`));
  return cleanup.length === 0 ? result : { ...result, detail: `${result.detail}; clean up by hand: ${cleanup.join('; ')}` };
}

/** Every metric alarm of the stage (their names are `<stage>-cart-<name>`, infra/constructs/operations-alarms.ts). */
async function stageAlarms(cloudWatch: AlarmDeliveryClients['cloudWatch'], stage: string): Promise<MetricAlarm[]> {
  const alarms: MetricAlarm[] = [];
  let NextToken: string | undefined;
  do {
    const page = await cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: `${stage}-cart-`, AlarmTypes: ['MetricAlarm'], NextToken }));
    alarms.push(...(page.MetricAlarms ?? []));
    NextToken = page.NextToken;
  } while (NextToken);
  return alarms;
}

/**
 * An alarm that is OK, acts on the topic both ways, and evaluates most often (it returns to OK soonest); or why
 * there is none. One already in ALARM would send nothing when set to ALARM again.
 */
export function pickAlarm(alarms: readonly MetricAlarm[], topicArn: string): MetricAlarm | string {
  const usable = alarms
    .filter((alarm) => alarm.ActionsEnabled !== false && alarm.StateValue === 'OK' && alarm.AlarmActions?.includes(topicArn) && alarm.OKActions?.includes(topicArn))
    .sort((a, b) => (a.Period ?? 0) * (a.EvaluationPeriods ?? 1) - (b.Period ?? 0) * (b.EvaluationPeriods ?? 1) || a.AlarmName!.localeCompare(b.AlarmName!));
  if (usable[0]) return usable[0];
  if (alarms.length === 0) return 'the stage has no alarm to set: was it deployed with this version?';
  return `no alarm of the stage is OK with the topic among its ALARM and OK actions (${alarms.map((alarm) => `${alarm.AlarmName} ${alarm.StateValue}`).join(', ')}): deal with the firing ones first`;
}

/** The queue's ARN: the topic's partition, region and account (the queue is made beside the topic). */
export function queueArnBeside(topicArn: string, queueName: string): string {
  const [arn, partition, , region, account] = topicArn.split(':');
  if (arn !== 'arn' || !partition || !region || !account) throw new Error(`not a topic ARN: ${topicArn}`);
  return `arn:${partition}:sqs:${region}:${account}:${queueName}`;
}

/** Only the alarm topic may send to the queue (SNS developer guide, "Fanout to Amazon SQS queues": the queue policy). */
export function queuePolicyFor(queueArn: string, topicArn: string) {
  return {
    Version: '2012-10-17',
    Statement: [{ Sid: 'AlarmTopicOnly', Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': topicArn } } }],
  };
}

interface AlarmNotification {
  readonly AlarmName?: string;
  readonly NewStateValue?: string;
  readonly OldStateValue?: string;
  readonly NewStateReason?: string;
}

type ParsedMessage = { type: 'Notification'; alarm: AlarmNotification } | { type: 'SubscriptionConfirmation'; token: string };

/** An SQS message from SNS (not raw): its JSON envelope, with the alarm's JSON in Message. */
function parseNotification(body: string | undefined): ParsedMessage | undefined {
  try {
    const envelope = JSON.parse(body ?? '') as { Type?: string; Message?: string; Token?: string };
    if (envelope.Type === 'SubscriptionConfirmation' && envelope.Token) return { type: 'SubscriptionConfirmation', token: envelope.Token };
    if (envelope.Type === 'Notification') return { type: 'Notification', alarm: JSON.parse(envelope.Message ?? '{}') as AlarmNotification };
  } catch {
    // not from SNS
  }
  return undefined;
}

/** The alarm's latest Action history entry since the check set it (e.g. "Failed to execute action arn:aws:sns:..."). */
async function lastActionHistory(cloudWatch: AlarmDeliveryClients['cloudWatch'], alarmName: string, since: Date): Promise<string | undefined> {
  try {
    const { AlarmHistoryItems } = await cloudWatch.send(new DescribeAlarmHistoryCommand({ AlarmName: alarmName, HistoryItemType: 'Action', StartDate: since, ScanBy: 'TimestampDescending', MaxRecords: 5 }));
    return AlarmHistoryItems?.map((item) => item.HistorySummary).filter(Boolean).join(' | ') || undefined;
  } catch (error) {
    return `could not read it: ${(error as Error).message}`;
  }
}
