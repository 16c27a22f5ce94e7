import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { installAwsCallFaultInjector, type AwsHttpRequest } from '../../adapters/aws-call-faults';
import { dynamoDbClient } from '../../adapters/aws-clients';
import { installAwsCallChaos, isWrite } from './aws-call-faults';
import { Chaos } from './chaos';

/** A DynamoDB endpoint that answers every call 200 and counts them by operation. */
let server: Server;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    seen.push(String(request.headers['x-amz-target']).split('.')[1]!);
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    response.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
});

afterEach(() => {
  installAwsCallFaultInjector(undefined);
  seen.length = 0;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const put = new PutItemCommand({ TableName: 't', Item: { id: { S: 'x' } } });
const get = new GetItemCommand({ TableName: 't', Key: { id: { S: 'x' } } });

describe('chaos at the SDK HTTP handler', () => {
  it('ambiguous-write: the write reaches the service, its answer is lost, and the SDK retries it (both 500 and timeout)', async () => {
    for (const pick of [0, 0.99]) {
      // happens('ambiguous-write') on the first write only; pick() chooses 500 (0) or timeout (0.99).
      const draws = [0, pick];
      const chaos = new Chaos({ 'ambiguous-write': 0.5 }, undefined, () => draws.shift() ?? 0.9);
      installAwsCallChaos(chaos, { stalls: false });
      await dynamoDbClient().send(put);
      expect(seen).toEqual(['PutItem', 'PutItem']); // applied, then applied again by the retry
      seen.length = 0;
      expect(chaos.injected()['ambiguous-write']).toBe(1);
    }
  });

  it('reads are never answered ambiguously; a client created before the injector is not wrapped', async () => {
    const before = dynamoDbClient();
    installAwsCallChaos(new Chaos({ 'ambiguous-write': 1 }), { stalls: false });
    await dynamoDbClient().send(get);
    await before.send(put);
    expect(seen).toEqual(['GetItem', 'PutItem']);
  });

  it('stall: holds a call before sending it, up to the bound', async () => {
    installAwsCallChaos(new Chaos({ stall: 1 }, undefined, () => 0), { stalls: true });
    const started = Date.now();
    await dynamoDbClient().send(get);
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('isWrite: DynamoDB and Kinesis write operations, S3 PUT/POST/DELETE', () => {
    const request = (method: string, target?: string): AwsHttpRequest => ({ method, path: '/', headers: target ? { 'X-Amz-Target': target } : {} });
    expect(isWrite('dynamodb', request('POST', 'DynamoDB_20120810.TransactWriteItems'))).toBe(true);
    expect(isWrite('dynamodb', request('POST', 'DynamoDB_20120810.Query'))).toBe(false);
    expect(isWrite('kinesis', request('POST', 'Kinesis_20131202.PutRecords'))).toBe(true);
    expect(isWrite('s3', request('PUT'))).toBe(true);
    expect(isWrite('s3', request('GET'))).toBe(false);
  });
});
