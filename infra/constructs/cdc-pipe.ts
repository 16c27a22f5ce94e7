import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { CfnPolicy, CfnRole, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnPipe } from 'aws-cdk-lib/aws-pipes';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** What the Pipe reads per batch and how it gives up: the values the local Pipe runner uses too. */
export interface CdcPipeSourceSettings {
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly maximumRetryAttempts: number;
  readonly maximumRecordAgeInSeconds: number;
  readonly parallelizationFactor?: number;
  readonly startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** EventBridge event patterns; a record matching none is dropped before the enrichment. */
  readonly filterPatterns: readonly object[];
  /** JSONPath into each enriched element, evaluated per Kinesis record. */
  readonly partitionKey: string;
}

export interface CdcPipeProps {
  readonly name: string;
  readonly table: ITable;
  readonly enrichment: IFunction;
  readonly target: IStream;
  readonly settings: CdcPipeSourceSettings;
  readonly logRetention: RetentionDays;
}

/**
 * Change data capture: the event store's DynamoDB stream -> EventBridge Pipe -> enrichment Lambda (splits each
 * change into domain events) -> Kinesis, one record per event, partitioned by cart. There is no stable L2 for
 * Pipes, so this is a small construct over CfnPipe with its own least-privilege role. A batch that keeps failing
 * is bisected to isolate the bad record, retried a bounded number of times, then sent to the dead-letter queue.
 */
export class CdcPipe extends Construct {
  readonly pipe: CfnPipe;
  readonly role: Role;
  readonly deadLetterQueue: Queue;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: CdcPipeProps) {
    super(scope, id);
    const streamArn = props.table.tableStreamArn;
    if (!streamArn) throw new Error('the event store table has no stream: the CDC Pipe needs NEW_AND_OLD_IMAGES');

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue IS a dead-letter queue (of the CDC Pipe and its enrichment); it has no DLQ of its own.',
    });
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('pipes.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
    });
    for (const statement of [
      new PolicyStatement({
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        resources: [streamArn],
      }),
      // ListStreams has no resource-level permission: AWS only accepts "*" for it.
      new PolicyStatement({ actions: ['dynamodb:ListStreams'], resources: ['*'] }),
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.enrichment.functionArn] }),
      new PolicyStatement({ actions: ['kinesis:PutRecord', 'kinesis:PutRecords'], resources: [props.target.streamArn] }),
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
      new PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    ]) {
      this.role.addToPrincipalPolicy(statement);
    }
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams supports no resource-level permission; every other action is scoped to one ARN.',
    });

    const { settings } = props;
    this.pipe = new CfnPipe(this, 'Pipe', {
      name: props.name,
      description: 'Event store stream -> enrichment (one envelope per event) -> Kinesis',
      roleArn: this.role.roleArn,
      desiredState: 'RUNNING',
      source: streamArn,
      sourceParameters: {
        dynamoDbStreamParameters: {
          startingPosition: settings.startingPosition,
          batchSize: settings.batchSize,
          maximumBatchingWindowInSeconds: settings.maximumBatchingWindowInSeconds,
          maximumRetryAttempts: settings.maximumRetryAttempts,
          maximumRecordAgeInSeconds: settings.maximumRecordAgeInSeconds,
          parallelizationFactor: settings.parallelizationFactor,
          onPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
        },
        filterCriteria: { filters: settings.filterPatterns.map((pattern) => ({ pattern: JSON.stringify(pattern) })) },
      },
      enrichment: props.enrichment.functionArn,
      target: props.target.streamArn,
      targetParameters: { kinesisStreamParameters: { partitionKey: settings.partitionKey } },
      logConfiguration: {
        level: 'ERROR',
        cloudwatchLogsLogDestination: { logGroupArn: this.logGroup.logGroupArn },
      },
    });
    // Pipes validates its role's permissions when it is created: the policy must exist before the pipe.
    this.pipe.addResourceDependency(this.role.node.defaultChild as CfnRole);
    this.pipe.addResourceDependency(this.role.node.findChild('DefaultPolicy').node.defaultChild as CfnPolicy);
  }
}
