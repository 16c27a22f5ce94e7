import { ArnFormat, Duration, Fn, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { MathExpression, Metric, Stats, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression, TimeWindow } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PIPELINE_HOPS, type PipelineHop } from '../../application/pipeline-verification';
import { ENV } from '../../lambdas/environment';
import { CANARY_HOP_DIMENSION, METRIC, metricsNamespaceFor } from '../../lambdas/metric-names';

/** The API routes a canary run calls (adapters/pipeline-probe/sdk-pipeline-probe.ts), as execute-api resources. */
const CANARY_ROUTES: readonly { method: 'GET' | 'POST'; path: string }[] = [
  { method: 'POST', path: '/carts' },
  { method: 'POST', path: '/carts/*/items' },
  { method: 'GET', path: '/carts/*' },
  { method: 'GET', path: '/read/carts/*' },
];

/** CloudWatch alarms evaluate at most one day of data (period x evaluation periods). */
const MAX_ALARM_PERIOD_SECONDS = 86_400;

export interface PipelineCanaryProps {
  readonly stage: string;
  /** The canary Lambda of lambdas/registry.ts (its event-store, stream and archive reads are wired in infra/lambda-wiring.ts). */
  readonly function: NodejsFunction;
  readonly api: HttpApi;
  /** The API's stage (`$default`): the execute-api ARNs name it. */
  readonly apiStageName: string;
  readonly replayStateMachine: StateMachine;
  /** Its physical name (`<stage>-replay`): the executions' ARNs are built from it. */
  readonly replayStateMachineName: string;
  readonly eventLogLogGroup: ILogGroup;
  readonly deadLetterQueues: readonly { name: string; queue: IQueue }[];
  /** The schedule, or undefined when the canary is off (context canarySchedule=off): no schedule, no alarm. */
  readonly schedule?: { expression: string; intervalSeconds: number };
}

/**
 * The pipeline canary on AWS (issue 23): an EventBridge Scheduler schedule invokes the canary Lambda, which runs
 * `cdc-cart verify`'s hops and emits CanaryHopFailed per hop. Its role gets the calls its probe makes and no more:
 * the API routes it calls (IAM-signed), the dry-run replay's StartExecution/DescribeExecution, FilterLogEvents on the
 * event log's group, the dead-letter queues' attribute reads.
 */
export class PipelineCanary extends Construct {
  readonly schedule?: Schedule;
  /** 1 while any hop failed in the window (the alarm's metric), one series per hop inside. */
  readonly anyHopFailed?: IMetric;
  readonly period?: Duration;
  /** CanaryHopFailed per hop, for the dashboard; empty when the canary is off. */
  readonly hopMetrics: readonly IMetric[] = [];

  constructor(scope: Construct, id: string, props: PipelineCanaryProps) {
    super(scope, id);
    const fn = props.function;
    fn.addEnvironment(ENV.canaryApiUrl, props.api.apiEndpoint);
    fn.addEnvironment(ENV.replayStateMachineArn, props.replayStateMachine.stateMachineArn);
    fn.addEnvironment(ENV.eventLogLogGroup, props.eventLogLogGroup.logGroupName);
    fn.addEnvironment(ENV.deadLetterQueueUrls, Fn.join(',', props.deadLetterQueues.map(({ name, queue }) => Fn.join('=', [name, queue.queueUrl]))));
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['execute-api:Invoke'],
        resources: CANARY_ROUTES.map(({ method, path }) => props.api.arnForExecuteApi(method, path, props.apiStageName)),
      }),
    );
    const stack = Stack.of(this);
    const apiId = stack.getLogicalId(props.api.node.defaultChild as CfnElement);
    for (const { method, path } of CANARY_ROUTES.filter((route) => route.path.includes('*'))) {
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/${props.apiStageName}/${method}${path}]`,
        reason: 'The canary calls this route for the probe cart it opens, whose id is generated: the path parameter is the only wildcard.',
      });
    }
    fn.addToRolePolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [props.replayStateMachine.stateMachineArn] }));
    // Only the executions it starts: their names begin with verify- (SdkPipelineProbe.dryRunReplay).
    const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${props.replayStateMachineName}:verify-*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    fn.addToRolePolicy(new PolicyStatement({ actions: ['states:DescribeExecution'], resources: [executions] }));
    Validations.of(fn.role!).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${props.replayStateMachineName}:verify-*]`,
      reason: 'The dry-run replays the canary starts are named verify-<time>: the grant covers those executions of the replay machine only.',
    });
    // CloudWatch Logs authorises FilterLogEvents on the log group; its ARN with and without the trailing `:*` (the form
    // CloudFormation's Arn attribute has) so that either form of the request's resource matches.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['logs:FilterLogEvents'],
        resources: [props.eventLogLogGroup.logGroupArn, stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: props.eventLogLogGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
    fn.addToRolePolicy(new PolicyStatement({ actions: ['sqs:GetQueueAttributes'], resources: props.deadLetterQueues.map(({ queue }) => queue.queueArn) }));

    if (!props.schedule) return;
    // Its own role, so that it serves this schedule only (LambdaInvoke would otherwise make one shared by the stack).
    const scheduleRole = new Role(this, 'ScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
      description: `Lets the ${props.stage} canary schedule invoke the canary Lambda`,
    });
    Validations.of(scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: "LambdaInvoke grants the function's versions and aliases (ARN:*) besides the function; both are this one function.",
    });
    // Lambda retries a failed asynchronous invocation twice by default: a canary run that crashed is reported by the
    // alarm (no data), and the next scheduled run is the retry.
    fn.configureAsyncInvoke({ retryAttempts: 0 });
    this.schedule = new Schedule(this, 'Schedule', {
      scheduleName: `${props.stage}-cart-canary`,
      description: 'Runs the pipeline canary (cdc-cart verify as a Lambda); docs/operating-on-aws.md, alarm canary',
      schedule: ScheduleExpression.expression(props.schedule.expression),
      // A run missed is reported by the alarm; a late or repeated one only adds a probe cart.
      target: new LambdaInvoke(fn, { role: scheduleRole, retryAttempts: 0, maxEventAge: Duration.minutes(5) }),
      timeWindow: TimeWindow.off(),
    });
    // Two intervals: each window holds at least one finished run even when a run ends late in its interval, so an
    // empty window means the canary did not run or did not finish (treated as breaching).
    this.period = Duration.seconds(Math.min(2 * props.schedule.intervalSeconds, MAX_ALARM_PERIOD_SECONDS));
    const perHop = Object.fromEntries(PIPELINE_HOPS.map((hop, index) => [`hop${index}`, canaryHopMetric(props.stage, hop, this.period!)]));
    this.hopMetrics = PIPELINE_HOPS.map((hop) => canaryHopMetric(props.stage, hop, Duration.seconds(props.schedule!.intervalSeconds)));
    this.anyHopFailed = new MathExpression({
      expression: `MAX([${Object.keys(perHop).join(', ')}])`,
      usingMetrics: perHop,
      period: this.period,
      label: 'Canary hops failed (1 = some hop failed)',
    });
  }
}

/** CanaryHopFailed of one hop, as the canary emits it (lambdas/canary/canary.ts): max over the period. */
export function canaryHopMetric(stage: string, hop: PipelineHop, period: Duration = Duration.minutes(5)): Metric {
  return new Metric({
    namespace: metricsNamespaceFor(stage),
    metricName: METRIC.canaryHopFailed.name,
    dimensionsMap: { service: METRIC.canaryHopFailed.emittedBy, [CANARY_HOP_DIMENSION]: hop },
    statistic: Stats.MAXIMUM,
    period,
    label: hop,
  });
}
