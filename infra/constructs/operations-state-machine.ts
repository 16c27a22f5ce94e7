import { ArnFormat, Aws, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PARTITION_PLACEHOLDER } from '../../statemachines/state-machines';
import { lambdaNameOfPlaceholder, readAslRequirements } from '../asl-definition';

export interface OperationsStateMachineProps {
  readonly stateMachineName: string;
  /** ASL file shared with the local Step Functions runner (statemachines/*.asl.json). */
  readonly definitionFile: string;
  /** `${XxxFunctionArn}` placeholders resolve to the registry Lambda `xxx` through this lookup. */
  readonly functionFor: (lambdaName: string) => IFunction;
  /** Bucket placeholders (e.g. `ArchiveBucket`) -> bucket of the stack. */
  readonly buckets: Record<string, IBucket>;
  readonly logRetention: RetentionDays;
}

/**
 * A replay or backfill state machine from its ASL file (the same file the local runner executes), with logging of
 * every execution, X-Ray tracing, and a role derived from the definition: it may invoke exactly the Lambdas the
 * file names, list the buckets its Distributed Map reads, write under its ResultWriter prefix, and start its own
 * child executions. A placeholder nobody can fill fails the synth.
 */
export class OperationsStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  readonly invokedFunctions: readonly IFunction[];

  constructor(scope: Construct, id: string, props: OperationsStateMachineProps) {
    super(scope, id);
    const requirements = readAslRequirements(props.definitionFile);
    const substitutions: Record<string, string> = {};
    const invoked: IFunction[] = [];
    for (const placeholder of requirements.placeholders) {
      const lambdaName = lambdaNameOfPlaceholder(placeholder);
      const bucket = props.buckets[placeholder];
      if (placeholder === PARTITION_PLACEHOLDER) {
        substitutions[placeholder] = Aws.PARTITION;
      } else if (lambdaName) {
        const fn = props.functionFor(lambdaName);
        invoked.push(fn);
        substitutions[placeholder] = fn.functionArn;
      } else if (bucket) {
        substitutions[placeholder] = bucket.bucketName;
      } else {
        throw new Error(`${props.definitionFile}: no value for \${${placeholder}} (known: ${PARTITION_PLACEHOLDER}, *FunctionArn, ${Object.keys(props.buckets).join(', ')})`);
      }
    }
    this.invokedFunctions = invoked;

    // Under /aws/vendedlogs/: Step Functions then need no CloudWatch Logs resource policy entry per log group (that
    // policy's 5,120-character limit fails the creation of log-enabled resources in busy accounts). A fixed name
    // must not outlive the stack, or the next deploy could not create it: destroyed with the machine.
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromFile(props.definitionFile),
      definitionSubstitutions: substitutions,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: LogLevel.ALL, includeExecutionData: false },
    });

    const role = this.stateMachine.role;
    // Exact ARNs, not grantInvoke's extra `:*` (every version and alias): the definition invokes the functions' ARNs.
    if (invoked.length > 0) {
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: invoked.map((fn) => fn.functionArn) }));
    }
    for (const name of requirements.listedBuckets) {
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.buckets[name]!.bucketArn] }));
    }
    for (const writer of requirements.resultWriters) {
      const bucket = props.buckets[writer.bucket]!;
      const objects = bucket.arnForObjects(`${writer.prefix}/*`);
      role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload'], resources: [objects] }),
      );
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${logicalIdPlaceholder(bucket)}.Arn>/${writer.prefix}/*]`,
        reason: `The Distributed Map ResultWriter writes objects with generated names under ${writer.prefix}/; the grant is limited to that prefix.`,
      });
    }
    if (requirements.distributedMap) {
      // Built from the name, not the resource: the role's policy cannot reference the machine that depends on it.
      const stack = Stack.of(this);
      const ownArn = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: props.stateMachineName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      const childExecutions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${props.stateMachineName}/*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['states:StartExecution'], resources: [ownArn] }));
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [childExecutions] }));
      // Redriving a failed execution redrives its failed Map Run, whose child executions the machine restarts itself:
      // AWS's Distributed Map example policies grant states:RedriveExecution on execution:<name>/<mapRunLabel>:* and
      // states:DescribeExecution on the parent's own executions, execution:<name>:* (Step Functions developer guide,
      // "IAM policies for using Distributed Map states", redriving a Map Run).
      const childRuns = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${props.stateMachineName}/*:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      const ownExecutions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${props.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['states:RedriveExecution'], resources: [childRuns] }));
      role.addToPrincipalPolicy(new PolicyStatement({ actions: ['states:DescribeExecution'], resources: [ownExecutions] }));
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${props.stateMachineName}/*]`,
        reason: 'Distributed Map child executions get generated names; AWS documents execution:<stateMachineName>/* as the resource for their Describe/StopExecution.',
      });
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${props.stateMachineName}/*:*]`,
        reason: 'A redrive restarts the Map Run\'s child executions, whose names are generated; AWS documents execution:<stateMachineName>/<mapRunLabel>:* for their RedriveExecution.',
      });
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${props.stateMachineName}:*]`,
        reason: 'The machine describes its own executions (generated names); AWS documents execution:<stateMachineName>:* for it.',
      });
    }
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'CloudWatch Logs vended delivery (logs:CreateLogDelivery, ...) and X-Ray (PutTraceSegments) support no resource-level permissions; AWS requires "*".',
    });
  }
}

/** cdk-nag names a GetAtt in a finding by the logical id of the resource. */
function logicalIdPlaceholder(bucket: IBucket): string {
  return Stack.of(bucket).getLogicalId(bucket.node.defaultChild as import('aws-cdk-lib').CfnElement);
}
