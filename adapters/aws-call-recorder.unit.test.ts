import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetItemCommand, DynamoDBClient, TransactWriteItemsCommand } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { AWS_CALL_RECORDING_DIR, awsCallRecording, iamRequestsOf, runAsLambda } from './aws-call-recorder';

const table = (name: string) => `arn:aws:dynamodb:eu-west-1:000000000000:table/${name}`;

describe('iamRequestsOf: the IAM requests that authorise an SDK call', () => {
  test('BatchGetItem: one request per table', () => {
    expect(iamRequestsOf('DynamoDBClient', 'BatchGetItem', { RequestItems: { a: {}, b: {} } }, 'eu-west-1')).toEqual([
      { action: 'dynamodb:BatchGetItem', resource: table('a') },
      { action: 'dynamodb:BatchGetItem', resource: table('b') },
    ]);
  });

  test('TransactWriteItems: the single-item action of each item, on its table', () => {
    const input = { TransactItems: [{ Put: { TableName: 'a' } }, { Update: { TableName: 'b' } }, { ConditionCheck: { TableName: 'a' } }, { Delete: { TableName: 'c' } }] };
    expect(iamRequestsOf('DynamoDBClient', 'TransactWriteItems', input, 'eu-west-1')).toEqual([
      { action: 'dynamodb:PutItem', resource: table('a') },
      { action: 'dynamodb:UpdateItem', resource: table('b') },
      { action: 'dynamodb:ConditionCheckItem', resource: table('a') },
      { action: 'dynamodb:DeleteItem', resource: table('c') },
    ]);
  });

  test('Query on an index names the index', () => {
    expect(iamRequestsOf('DynamoDBClient', 'Query', { TableName: 'a', IndexName: 'byX' }, 'eu-west-1')).toEqual([{ action: 'dynamodb:Query', resource: `${table('a')}/index/byX` }]);
  });

  test('S3 operations map to their IAM actions on the bucket or the object', () => {
    expect(iamRequestsOf('S3Client', 'ListObjectsV2', { Bucket: 'b', Prefix: 'events/' }, 'eu-west-1')).toEqual([{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b', context: { 's3:prefix': 'events/' } }]);
    expect(iamRequestsOf('S3Client', 'HeadObject', { Bucket: 'b', Key: 'k/1' }, 'eu-west-1')).toEqual([{ action: 's3:GetObject', resource: 'arn:aws:s3:::b/k/1' }]);
    expect(iamRequestsOf('S3Client', 'DeleteObjects', { Bucket: 'b', Delete: { Objects: [{ Key: 'x' }] } }, 'eu-west-1')).toEqual([{ action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/x' }]);
  });

  test('Kinesis by stream name, SQS by queue URL', () => {
    expect(iamRequestsOf('KinesisClient', 'PutRecords', { StreamName: 's' }, 'eu-west-1')).toEqual([{ action: 'kinesis:PutRecords', resource: 'arn:aws:kinesis:eu-west-1:000000000000:stream/s' }]);
    expect(iamRequestsOf('SQSClient', 'SendMessageBatch', { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q' }, 'eu-west-1')).toEqual([{ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:eu-west-1:000000000000:q' }]);
  });
});

describe('the recording middleware', () => {
  const previous = { [AWS_CALL_RECORDING_DIR]: process.env[AWS_CALL_RECORDING_DIR], AWS_REGION: process.env.AWS_REGION };
  beforeAll(() => {
    // ARNs are built with the region of the environment (the local stack's), whatever the client says.
    process.env.AWS_REGION = 'eu-west-1';
  });
  afterAll(() => {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  test('off without the variable', () => {
    delete process.env[AWS_CALL_RECORDING_DIR];
    expect(awsCallRecording()).toBeUndefined();
  });

  test('records the calls made inside an invocation (even failed ones), under the function name, once each', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'aws-calls-'));
    process.env[AWS_CALL_RECORDING_DIR] = directory;
    // Nothing listens there: every call fails, after the middleware has recorded it.
    const client = new DynamoDBClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    client.middlewareStack.use(awsCallRecording()!);
    const batchGet = () => client.send(new BatchGetItemCommand({ RequestItems: { summary: { Keys: [{ id: { S: '1' } }] } } })).catch(() => undefined);
    await batchGet(); // outside any invocation: not the handlers' doing, not recorded
    await runAsLambda('projections', async () => {
      await batchGet();
      await batchGet();
      await client.send(new TransactWriteItemsCommand({ TransactItems: [{ Put: { TableName: 'summary', Item: { id: { S: '1' } } } }] })).catch(() => undefined);
    });
    const lines = readdirSync(directory).flatMap((file) => readFileSync(join(directory, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)));
    expect(lines).toEqual([
      { function: 'projections', operation: 'BatchGetItem', action: 'dynamodb:BatchGetItem', resource: table('summary') },
      { function: 'projections', operation: 'TransactWriteItems', action: 'dynamodb:PutItem', resource: table('summary') },
    ]);
  });

  test('GetRecords names only an iterator: recorded on the stream its iterator (or the iterator before it) was taken from', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'aws-calls-'));
    process.env[AWS_CALL_RECORDING_DIR] = directory;
    const client = new KinesisClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    client.middlewareStack.use(awsCallRecording()!);
    // Kinesis answered here, without a network: each call hands out the next iterator.
    let iterator = 0;
    client.middlewareStack.add(() => async () => ({ output: { ShardIterator: `it-${++iterator}`, NextShardIterator: `it-${++iterator}`, Records: [], $metadata: {} }, response: {} }) as never, { step: 'build', name: 'answer' });
    await runAsLambda('canary', async () => {
      const { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamName: 'events', ShardId: 'shard-0', ShardIteratorType: 'TRIM_HORIZON' }));
      const { NextShardIterator } = await client.send(new GetRecordsCommand({ ShardIterator }));
      await client.send(new GetRecordsCommand({ ShardIterator: NextShardIterator }));
      await client.send(new GetRecordsCommand({ ShardIterator: 'from-elsewhere' }));
    });
    const lines = readdirSync(directory).flatMap((file) => readFileSync(join(directory, file), 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line)));
    const stream = 'arn:aws:kinesis:eu-west-1:000000000000:stream/events';
    expect(lines).toEqual([
      { function: 'canary', operation: 'GetShardIterator', action: 'kinesis:GetShardIterator', resource: stream },
      { function: 'canary', operation: 'GetRecords', action: 'kinesis:GetRecords', resource: stream },
      { function: 'canary', operation: 'GetRecords', action: 'kinesis:GetRecords', resource: '*' },
    ]);
  });
});
