import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { InitializeHandler, InitializeHandlerArguments, InitializeMiddleware, HandlerExecutionContext, Pluggable } from '@smithy/types';

/**
 * Evidence for IAM: the emulators check no permissions, so while the integration and reliability tests run, every
 * AWS call a Lambda handler makes is written down (which handler, which IAM action, on which resource). The test
 * infra/iam-evidence.test.ts then evaluates each call against that handler's role in the synthesized template.
 *
 * Off unless AWS_CALL_RECORDING_DIR names a directory: nothing deployed ever records.
 */
export const AWS_CALL_RECORDING_DIR = 'AWS_CALL_RECORDING_DIR';

/** One IAM request a call needs: `dynamodb:BatchGetItem` on a table, `s3:GetObject` on an object, ... */
export interface RecordedCall {
  /** The lambdas/registry.ts name of the handler that made the call. */
  readonly function: string;
  /** The SDK operation, e.g. `TransactWriteItems` (one operation can need several IAM requests). */
  readonly operation: string;
  readonly action: string;
  /** ARN built from the input with the local region and a placeholder account; `*` for actions without resources. */
  readonly resource: string;
  /** Request context keys a policy condition may test, e.g. `s3:prefix` of a listing. */
  readonly context?: Record<string, string>;
}

/** The local emulators accept any account; ARNs built here carry this one, and the evidence test maps names only. */
const RECORDED_ACCOUNT = '000000000000';

const caller = new AsyncLocalStorage<string>();

export function isRecordingAwsCalls(): boolean {
  return Boolean(process.env[AWS_CALL_RECORDING_DIR]);
}

/** Runs one invocation of a handler so that the calls it makes are recorded under its registry name. */
export function runAsLambda<T>(functionName: string, invocation: () => T): T {
  return caller.run(functionName, invocation);
}

/** The recording middleware for a client, or nothing when recording is off. */
export function awsCallRecording(): Pluggable<any, any> | undefined {
  const directory = process.env[AWS_CALL_RECORDING_DIR];
  if (!directory) return undefined;
  const sink = recordingSink(directory);
  const middleware: InitializeMiddleware<any, any> =
    (next: InitializeHandler<any, any>, context: HandlerExecutionContext) => async (args: InitializeHandlerArguments<any>) => {
      const functionName = caller.getStore();
      if (!functionName) return next(args);
      const operation = String(context.commandName ?? '').replace(/Command$/, '');
      const region = process.env.AWS_REGION ?? 'us-east-1';
      const clientName = String(context.clientName ?? '');
      for (const request of iamRequestsOf(clientName, operation, args.input ?? {}, region)) {
        sink({ function: functionName, operation, ...request });
      }
      try {
        const result = await next(args);
        if (clientName === 'KinesisClient') followShardIterators(operation, args.input ?? {}, result.output as Input, region);
        return result;
      } catch (error) {
        // S3 answers a missing key with NoSuchKey only to a caller allowed s3:ListBucket; to anyone else with
        // AccessDenied (S3 API reference, GetObject "Permissions"). Code that treats a missing object as empty needs it.
        const name = (error as { name?: string }).name;
        if ((name === 'NoSuchKey' || name === 'NotFound') && args.input?.Bucket) {
          // S3 evaluates that ListBucket with the requested key as s3:prefix, so a prefix-scoped listing grant serves.
          sink({
            function: functionName,
            operation,
            action: 's3:ListBucket',
            resource: s3Arn(String(args.input.Bucket)),
            ...(args.input.Key !== undefined ? { context: { 's3:prefix': String(args.input.Key) } } : {}),
          });
        }
        throw error;
      }
    };
  return { applyToStack: (stack) => stack.add(middleware, { step: 'initialize', name: 'awsCallRecording', override: true }) };
}

const sinks = new Map<string, (call: RecordedCall) => void>();

/** One file per process, each distinct call written once. */
function recordingSink(directory: string): (call: RecordedCall) => void {
  const existing = sinks.get(directory);
  if (existing) return existing;
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `calls-${process.pid}.jsonl`);
  const seen = new Set<string>();
  const sink = (call: RecordedCall) => {
    const line = JSON.stringify(call);
    if (seen.has(line)) return;
    seen.add(line);
    appendFileSync(file, `${line}\n`);
  };
  sinks.set(directory, sink);
  return sink;
}

type Input = Record<string, any>;
type IamRequest = { action: string; resource: string; context?: Record<string, string> };

/** The IAM requests an SDK operation is authorised by (Service Authorization Reference, per service). */
export function iamRequestsOf(clientName: string, operation: string, input: Input, region: string): IamRequest[] {
  const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${RECORDED_ACCOUNT}:${resource}`;
  const table = (name: string, index?: string) => arn('dynamodb', `table/${name}${index ? `/index/${index}` : ''}`);
  switch (clientName) {
    case 'DynamoDBClient': {
      const on = (action: string, resource: string) => ({ action: `dynamodb:${action}`, resource });
      if (operation === 'BatchGetItem' || operation === 'BatchWriteItem') {
        return Object.keys(input.RequestItems ?? {}).map((name) => on(operation, table(name)));
      }
      // Transactions are authorised per item, as the single-item action (DynamoDB developer guide, "Using IAM with transactions").
      if (operation === 'TransactWriteItems' || operation === 'TransactGetItems') {
        const actions: Record<string, string> = { Put: 'PutItem', Update: 'UpdateItem', Delete: 'DeleteItem', ConditionCheck: 'ConditionCheckItem', Get: 'GetItem' };
        return (input.TransactItems ?? []).flatMap((item: Input) =>
          Object.entries(item).map(([kind, request]) => on(actions[kind] ?? kind, table(String((request as Input).TableName)))),
        );
      }
      if (operation === 'ListTables') return [on(operation, '*')];
      return [on(operation, table(String(input.TableName), input.IndexName))];
    }
    case 'DynamoDBStreamsClient':
      return [{ action: `dynamodb:${operation}`, resource: operation === 'ListStreams' ? '*' : String(input.StreamArn) }];
    case 'KinesisClient': {
      // GetRecords names no stream, only an iterator; IAM authorises it on the stream the iterator was taken from.
      const fromIterator = operation === 'GetRecords' && input.ShardIterator ? iteratorStreams.get(String(input.ShardIterator)) : undefined;
      return [{ action: `kinesis:${operation}`, resource: input.StreamARN ?? (input.StreamName ? arn('kinesis', `stream/${input.StreamName}`) : (fromIterator ?? '*')) }];
    }
    case 'S3Client':
      return s3Requests(operation, input);
    case 'SQSClient':
      return [{ action: `sqs:${operation.replace(/Batch$/, '')}`, resource: arn('sqs', String(input.QueueUrl ?? '').split('/').pop() ?? '*') }];
    case 'SFNClient': {
      const resource = input.stateMachineArn ?? input.executionArn ?? input.mapRunArn ?? '*';
      return [{ action: `states:${operation}`, resource }];
    }
    default:
      return [{ action: `${clientName.replace(/Client$/, '').toLowerCase()}:${operation}`, resource: '*' }];
  }
}

/** Shard iterator -> the stream ARN it reads, for GetRecords (recording only; each entry is dropped when used). */
const iteratorStreams = new Map<string, string>();

function followShardIterators(operation: string, input: Input, output: Input | undefined, region: string): void {
  let stream: string | undefined;
  if (operation === 'GetShardIterator') stream = input.StreamARN ?? (input.StreamName ? `arn:aws:kinesis:${region}:${RECORDED_ACCOUNT}:stream/${input.StreamName}` : undefined);
  if (operation === 'GetRecords') {
    stream = iteratorStreams.get(String(input.ShardIterator));
    iteratorStreams.delete(String(input.ShardIterator));
  }
  const next = output?.ShardIterator ?? output?.NextShardIterator;
  if (stream && next) iteratorStreams.set(String(next), stream);
}

function s3Arn(bucket: string, key?: string): string {
  return `arn:aws:s3:::${bucket}${key === undefined ? '' : `/${key}`}`;
}

/** S3's API operations and the IAM actions that authorise them differ (Service Authorization Reference, Amazon S3). */
function s3Requests(operation: string, input: Input): IamRequest[] {
  const bucket = String(input.Bucket);
  const object = (action: string) => ({ action: `s3:${action}`, resource: s3Arn(bucket, String(input.Key)) });
  switch (operation) {
    case 'GetObject':
    case 'HeadObject':
      return [object('GetObject')];
    case 'PutObject':
    case 'CreateMultipartUpload':
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      return [object('PutObject')];
    case 'AbortMultipartUpload':
      return [object('AbortMultipartUpload')];
    case 'ListParts':
      return [object('ListMultipartUploadParts')];
    case 'DeleteObject':
      return [object('DeleteObject')];
    case 'DeleteObjects':
      return (input.Delete?.Objects ?? []).map((o: Input) => ({ action: 's3:DeleteObject', resource: s3Arn(bucket, String(o.Key)) }));
    case 'CopyObject': {
      const [sourceBucket, ...sourceKey] = decodeURIComponent(String(input.CopySource)).replace(/^\//, '').split('/');
      return [object('PutObject'), { action: 's3:GetObject', resource: s3Arn(sourceBucket!, sourceKey.join('/')) }];
    }
    case 'ListObjects':
    case 'ListObjectsV2':
      return [{ action: 's3:ListBucket', resource: s3Arn(bucket), context: { 's3:prefix': String(input.Prefix ?? '') } }];
    case 'HeadBucket':
      return [{ action: 's3:ListBucket', resource: s3Arn(bucket) }];
    case 'ListObjectVersions':
      return [{ action: 's3:ListBucketVersions', resource: s3Arn(bucket) }];
    default:
      return [{ action: `s3:${operation}`, resource: input.Key === undefined ? s3Arn(bucket) : s3Arn(bucket, String(input.Key)) }];
  }
}
