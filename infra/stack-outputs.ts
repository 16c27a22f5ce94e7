/**
 * The stack's outputs that tools read (cdc-cart --aws resolves every resource from these; see cli/aws-stack.ts):
 * one list, so that a test can prove the synthesized template declares each one.
 */
export const STACK_OUTPUTS = {
  apiUrl: 'ApiUrl',
  archiveBucket: 'ArchiveBucketName',
  replayStateMachineArn: 'replayStateMachineArn',
  eventStoreTable: 'EventStoreTableName',
  eventsStream: 'EventsStreamName',
  cartSummaryTable: 'CartSummaryTableName',
  itemPopularityTable: 'ItemPopularityTableName',
  eventLogLogGroup: 'EventLogLogGroupName',
  /** The SNS topic every alarm acts on (verify --alarm-check subscribes a temporary queue to it). */
  alarmTopicArn: 'AlarmTopicArn',
  /** `name=url,...` for every dead-letter queue (cdc-pipe, consumer-<name>). */
  deadLetterQueueUrls: 'DeadLetterQueueUrls',
} as const;

/** The Pipe's dead-letter queue's name in DeadLetterQueueUrls. */
export const PIPE_DEAD_LETTER_QUEUE = 'cdc-pipe';

export type StackOutputKey = keyof typeof STACK_OUTPUTS;

/** The CloudFormation stack of a stage (infra/bin/app.ts). */
export function stackNameOf(stage: string): string {
  return `CartEvents-${stage}`;
}
