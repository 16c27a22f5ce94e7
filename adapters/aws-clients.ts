import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { awsCallRecording } from './aws-call-recorder';
import { awsCallFaultsInstalled, withAwsCallFaults } from './aws-call-faults';

/**
 * Client factories for every adapter. Endpoints come from the SDK's own service-specific variables
 * (AWS_ENDPOINT_URL_DYNAMODB, _KINESIS, _S3, _SFN), which the local stack sets and AWS leaves unset, so the
 * same handler code talks to the emulators locally and to AWS when deployed.
 *
 * Under the tests (AWS_CALL_RECORDING_DIR set) every client also records the IAM requests of the calls that the
 * Lambda handlers make (aws-call-recorder.ts), the evidence infra/iam-evidence.test.ts checks the roles against.
 */

function recorded<T extends { middlewareStack: { use(pluggable: any): void } }>(client: T): T {
  const recording = awsCallRecording();
  if (recording) client.middlewareStack.use(recording);
  return client;
}

/** How long one DynamoDB call may take: per attempt (connect, then the whole response) and the attempts in all. */
export interface DynamoDbBudget {
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxAttempts: number;
}

/**
 * The budget of the HTTP handlers, which must answer well inside API Gateway's 30 s (and the Lambda's 30 s): a
 * call gives up after 2 attempts of at most 1 s to connect + 4 s to answer, plus the SDK's jittered backoff
 * (< 0.2 s), so about 8.2 s. A single-digit-millisecond service that has not answered in 4 s is unavailable, not
 * slow (DynamoDB Local on a saturated 2-core machine does take seconds; 4 s keeps it working under the reliability
 * suite's load); the handler then answers 503 (lambdas/http/unavailable.ts). A timed-out write may still be applied later:
 * the command path must tolerate it (see executeCartCommand's commandId).
 */
export const HTTP_HANDLER_DYNAMODB_BUDGET: DynamoDbBudget = { connectionTimeoutMs: 1_000, requestTimeoutMs: 4_000, maxAttempts: 2 };

/**
 * Without a budget: the SDK's defaults (3 attempts) with connection and response timeouts, so that a frozen or
 * unreachable endpoint fails a batch (which its trigger retries) instead of hanging it. Generous, because batch
 * writes and scans of background work are legitimately slower than an API call.
 */
const BACKGROUND_DYNAMODB_BUDGET: DynamoDbBudget = { connectionTimeoutMs: 2_000, requestTimeoutMs: 30_000, maxAttempts: 3 };

export function dynamoDbClient(budget: DynamoDbBudget = BACKGROUND_DYNAMODB_BUDGET): DynamoDBClient {
  return recorded(
    new DynamoDBClient({
      maxAttempts: budget.maxAttempts,
      // Without throwOnRequestTimeout, a request over requestTimeout only logs a warning and goes on waiting.
      requestHandler: withAwsCallFaults(
        'dynamodb',
        new NodeHttpHandler({ connectionTimeout: budget.connectionTimeoutMs, requestTimeout: budget.requestTimeoutMs, throwOnRequestTimeout: true }),
      ),
    }),
  );
}

export function dynamoDbDocumentClient(client: DynamoDBClient = dynamoDbClient()): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertEmptyValues: false },
  });
}

/** Reads the event store's stream (endpoint: AWS_ENDPOINT_URL_DYNAMODB_STREAMS, set by the local stack). */
export function dynamoDbStreamsClient(): DynamoDBStreamsClient {
  return recorded(new DynamoDBStreamsClient({}));
}

/**
 * HTTP/1.1: kinesalite refuses HTTP/2, and nothing here needs SubscribeToShard. A call that has not answered in
 * 10 s fails (and its caller's retry takes over) instead of hanging a poller: without throwOnRequestTimeout the
 * timeout would only log a warning.
 */
export function kinesisClient(): KinesisClient {
  return recorded(
    new KinesisClient({
      requestHandler: withAwsCallFaults('kinesis', new NodeHttpHandler({ connectionTimeout: 2_000, requestTimeout: 10_000, throwOnRequestTimeout: true })),
    }),
  );
}

export function s3Client(): S3Client {
  const local = Boolean(process.env.AWS_ENDPOINT_URL_S3);
  return recorded(
    new S3Client({
      // s3rver serves path-style only, and stores streamed bodies wrongly under the default checksum mode.
      forcePathStyle: local,
      ...(awsCallFaultsInstalled() ? { requestHandler: withAwsCallFaults('s3', new NodeHttpHandler()) } : {}),
      requestChecksumCalculation: local ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
      responseChecksumValidation: local ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    }),
  );
}

export function sfnClient(): SFNClient {
  return recorded(new SFNClient({}));
}

export function sqsClient(): SQSClient {
  return recorded(new SQSClient({}));
}
