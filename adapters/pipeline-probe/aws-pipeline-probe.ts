import { CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineProbe } from '../../application/pipeline-verification';
import { DynamoDbEventStore } from '../dynamodb/event-store';
import { KinesisStreamTail } from '../kinesis/stream-tail';
import { S3ArchiveObjects } from '../s3/replay-archive';
import { SdkPipelineProbe, type CartApiCall } from './sdk-pipeline-probe';

/** The deployed resources the probe talks to: from the stack's outputs (cdc-cart --aws) or the canary's environment. */
export interface AwsPipelineResources {
  readonly eventStoreTable: string;
  readonly eventsStream: string;
  readonly archiveBucket: string;
  readonly replayStateMachineArn: string;
  readonly eventLogLogGroup: string;
  /** Each dead-letter queue by name (cdc-pipe, consumer-<name>). */
  readonly deadLetterQueueUrls: Readonly<Record<string, string>>;
  /** The Pipe's own among them (infra/stack-outputs.ts: PIPE_DEAD_LETTER_QUEUE). */
  readonly pipeDeadLetterQueue?: string;
}

export interface AwsClients {
  readonly documents: DynamoDBDocumentClient;
  readonly kinesis: KinesisClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
  readonly sqs: SQSClient;
  readonly logs: CloudWatchLogsClient;
}

/** On AWS, Firehose buffers 60 s and a Lambda consumer batches: looking every 5 s costs little and loses little. */
const AWS_POLL_INTERVAL_MS = 5_000;

/** The probe against a deployed stack: the same hops as locally, asked of the AWS services. */
export function awsPipelineProbe(resources: AwsPipelineResources, api: CartApiCall, clients: AwsClients): PipelineProbe {
  return new SdkPipelineProbe({
    where: 'aws',
    pollIntervalMs: AWS_POLL_INTERVAL_MS,
    ...(resources.pipeDeadLetterQueue ? { pipeDeadLetterQueue: resources.pipeDeadLetterQueue } : {}),
    api,
    store: new DynamoDbEventStore(clients.documents, resources.eventStoreTable),
    tail: new KinesisStreamTail(clients.kinesis, resources.eventsStream),
    streamStart: 'AT_TIMESTAMP',
    archive: new S3ArchiveObjects(clients.s3, resources.archiveBucket),
    sfn: clients.sfn,
    replayStateMachineArn: resources.replayStateMachineArn,
    eventLogLines: (cartId, since) => cloudWatchEventLogLines(clients.logs, resources.eventLogLogGroup, cartId, since),
    deadLetterCounts: () => queueDepths(clients.sqs, resources.deadLetterQueueUrls),
  });
}

/** The event log's lines of one cart, from its Lambda's log group (JSON lines, found by a filter pattern on message and aggregateId). */
export async function cloudWatchEventLogLines(logs: CloudWatchLogsClient, logGroupName: string, cartId: string, since: Date): Promise<{ eventId: string; version: number }[]> {
  const lines: { eventId: string; version: number; at: number }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await logs.send(
      new FilterLogEventsCommand({ logGroupName, startTime: since.getTime(), filterPattern: `{ $.message = "cart event" && $.aggregateId = "${cartId}" }`, nextToken }),
    );
    for (const event of page.events ?? []) {
      try {
        const json = JSON.parse(event.message ?? '') as { eventId: string; version: number };
        lines.push({ eventId: json.eventId, version: json.version, at: event.timestamp ?? 0 });
      } catch {
        // not a JSON line
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return lines.sort((a, b) => a.at - b.at).map(({ eventId, version }) => ({ eventId, version }));
}

/** Each dead-letter queue's visible plus in-flight messages (SQS counts are approximate; a receive would hide them). */
export async function queueDepths(sqs: SQSClient, queueUrls: Readonly<Record<string, string>>): Promise<Record<string, number>> {
  const entries = await Promise.all(
    Object.entries(queueUrls).map(async ([name, QueueUrl]) => {
      const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return [name, Number(Attributes?.ApproximateNumberOfMessages ?? 0) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/** `name=url,name=url` (the DeadLetterQueueUrls output, the canary's environment) as a map. */
export function parseQueueUrls(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(',')
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf('=');
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
}
