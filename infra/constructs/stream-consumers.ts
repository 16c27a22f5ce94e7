import { Duration, Validations } from 'aws-cdk-lib';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import { StartingPosition, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** One consumer of the events stream, with the batching and failure settings the local consumer runtime uses too. */
export interface StreamConsumerSettings {
  readonly name: string;
  readonly function: IFunction;
  readonly batchSize: number;
  readonly maximumBatchingWindowInSeconds: number;
  readonly maximumRetryAttempts: number;
  readonly maximumRecordAgeInSeconds?: number;
  readonly bisectBatchOnError: boolean;
  readonly parallelizationFactor?: number;
  readonly startingPosition?: 'TRIM_HORIZON' | 'LATEST';
}

export interface StreamConsumersProps {
  readonly stream: IStream;
  readonly consumers: readonly StreamConsumerSettings[];
}

/**
 * Lambda event source mappings on the events stream. Each consumer reports partial batch failures (so only the
 * failed record and what follows it is retried), bisects a failing batch, gives up after bounded retries and then
 * sends the failed batch's description to its own on-failure queue (which one failed is visible from the queue).
 */
export class StreamConsumers extends Construct {
  readonly failureQueues: ReadonlyMap<string, Queue>;

  constructor(scope: Construct, id: string, props: StreamConsumersProps) {
    super(scope, id);
    const queues = new Map<string, Queue>();
    for (const consumer of props.consumers) {
      const onFailure = new Queue(this, `${consumer.name}OnFailure`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(onFailure).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: `This queue IS the on-failure destination (dead-letter queue) of the ${consumer.name} event source mapping.`,
      });
      consumer.function.addEventSource(
        new KinesisEventSource(props.stream, {
          startingPosition: consumer.startingPosition === 'LATEST' ? StartingPosition.LATEST : StartingPosition.TRIM_HORIZON,
          batchSize: consumer.batchSize,
          maxBatchingWindow: Duration.seconds(consumer.maximumBatchingWindowInSeconds),
          retryAttempts: consumer.maximumRetryAttempts,
          maxRecordAge: consumer.maximumRecordAgeInSeconds === undefined ? undefined : Duration.seconds(consumer.maximumRecordAgeInSeconds),
          bisectBatchOnError: consumer.bisectBatchOnError,
          parallelizationFactor: consumer.parallelizationFactor,
          reportBatchItemFailures: true,
          onFailure: new SqsDlq(onFailure),
        }),
      );
      queues.set(consumer.name, onFailure);
    }
    this.failureQueues = queues;
  }
}
