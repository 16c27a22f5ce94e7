import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** The key policy statement that lets CloudWatch alarms use the topic's key. */
export const ALARM_KEY_STATEMENT_SID = 'AllowCloudWatchAlarmsToUseTheTopicKey';

/** What the runbook (docs/operating-on-aws.md) says for each alarm, by the alarm's short name (its physical name is `<stage>-cart-<name>`). */
export interface AlarmSpec {
  readonly name: string;
  readonly description: string;
  readonly metric: IMetric;
  /** The alarm fires when the metric reaches this value (>=) in one evaluation period. */
  readonly threshold: number;
  /** Default NOT_BREACHING; BREACHING for a metric that must keep arriving (the canary's). */
  readonly treatMissingData?: TreatMissingData;
}

export interface OperationsAlarmsProps {
  readonly stage: string;
  readonly alarmEmail?: string;
}

/**
 * The alarm topic (SNS, encrypted with a customer managed key, since CloudWatch cannot publish to a topic encrypted
 * with the AWS managed SNS key) and every alarm of the system. Alarms go to the topic when they fire and when they
 * recover. Missing data counts as healthy (most of these metrics are only emitted when something happens), except
 * where a spec says otherwise (the canary: no data means it did not run).
 */
export class OperationsAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  private readonly stage: string;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    this.stage = props.stage;
    // The key only protects alarm notifications in flight: nothing needs it after the stack is gone, and a retained
    // key would bill on every destroy + redeploy. Deleted after the shortest waiting period KMS allows.
    const key = new Key(this, 'TopicKey', {
      enableKeyRotation: true,
      description: `Encrypts the ${props.stage} cart alarm topic`,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // Only this account's alarms of this stage (confused deputy), by the name every alarm here gets (add()).
    const ownAlarms = {
      StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      ArnLike: { 'aws:SourceArn': Stack.of(this).formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: alarmName(props.stage, '*'), arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
    };
    // SNS developer guide, "Enable compatibility between event sources from AWS services and encrypted topics", and
    // AWS's knowledge center article on alarms with an encrypted topic: the key statement for cloudwatch.amazonaws.com
    // carries no condition. Nothing AWS publishes says aws:SourceArn/aws:SourceAccount reach KMS when SNS uses the key
    // on the alarm's behalf (for EventBridge it says they do not), and a condition that is absent from the request
    // silently drops every notification. The confused-deputy guard stays on the topic policy below, where AWS
    // documents it; this key encrypts this topic and nothing else.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: ALARM_KEY_STATEMENT_SID,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', { topicName: `${props.stage}-cart-alarms`, masterKey: key, enforceSSL: true });
    // enforceSSL makes a topic policy holding only its Deny, which replaces SNS's default policy: without this
    // statement no alarm could ever publish.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: ownAlarms,
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
  }

  add(spec: AlarmSpec): Alarm {
    const alarm = new Alarm(this, spec.name, {
      alarmName: alarmName(this.stage, spec.name),
      alarmDescription: `${spec.description} Runbook: docs/operating-on-aws.md, section "Runbook", alarm ${spec.name}.`,
      metric: spec.metric,
      threshold: spec.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: spec.treatMissingData ?? TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
    return alarm;
  }
}

function alarmName(stage: string, name: string): string {
  return `${stage}-cart-${name}`;
}
