import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { IdempotencyPersistenceLayerError } from '@aws-lambda-powertools/idempotency';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { dynamoDbClient, HTTP_HANDLER_DYNAMODB_BUDGET } from '../../adapters/aws-clients';
import { logger } from '../observability';
import { DEADLINE_MARGIN_MS, isDependencyUnavailable, RETRY_AFTER_SECONDS, serviceUnavailable, withinDeadline } from './unavailable';

type Mode = 'hang' | 'throttle' | 'server-error' | 'validation' | 'conditional';

/** A DynamoDB endpoint that misbehaves as told: the SDK's real errors, not hand-made look-alikes. */
let mode: Mode = 'hang';
let server: Server;
let endpoint: string;
const hung: (() => void)[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    request.resume();
    const answer = (status: number, type: string) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': type });
      response.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: type }));
    };
    if (mode === 'hang') hung.push(() => response.destroy());
    else if (mode === 'throttle') answer(400, 'ProvisionedThroughputExceededException');
    else if (mode === 'server-error') answer(500, 'InternalServerError');
    else if (mode === 'validation') answer(400, 'ValidationException');
    else answer(400, 'ConditionalCheckFailedException');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_ENDPOINT_URL_DYNAMODB: endpoint });
});

afterAll(async () => {
  for (const release of hung.splice(0)) release();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function sdkErrorFor(which: Mode, client: DynamoDBClient = new DynamoDBClient({ maxAttempts: 1, endpoint })): Promise<unknown> {
  mode = which;
  return client.send(new GetItemCommand({ TableName: 't', Key: { id: { S: 'x' } } })).then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('isDependencyUnavailable', () => {
  it('is true for what a retry can get through: timeouts, throttling, 5xx, also wrapped by Powertools', async () => {
    const timeout = await sdkErrorFor('hang', new DynamoDBClient({ maxAttempts: 1, endpoint, requestHandler: { requestTimeout: 200, throwOnRequestTimeout: true } }));
    expect((timeout as Error).name).toBe('TimeoutError');
    expect(isDependencyUnavailable(timeout)).toBe(true);
    expect(isDependencyUnavailable(await sdkErrorFor('throttle'))).toBe(true);
    expect(isDependencyUnavailable(await sdkErrorFor('server-error'))).toBe(true);
    expect(isDependencyUnavailable(new IdempotencyPersistenceLayerError('Failed to delete record from idempotency store', { cause: timeout as Error }))).toBe(true);
    // Node's own socket errors, as the SDK rethrows them (a dropped connection; a refused one).
    expect(isDependencyUnavailable(Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET' }))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
  });

  it('looks through wrappers for what the SDK does not classify through a cause (throttling, a refused transaction)', async () => {
    const wrapped = (cause: unknown) => new IdempotencyPersistenceLayerError('Failed to update success record to idempotency store', { cause: cause as Error });
    const throttled = await sdkErrorFor('throttle');
    expect(isDependencyUnavailable(wrapped(throttled))).toBe(true);
    expect(isDependencyUnavailable(wrapped(Object.assign(new Error('x'), { $metadata: { httpStatusCode: 507 } })))).toBe(true);
    const refused = (Code: string) => Object.assign(new Error('Transaction cancelled'), { name: 'TransactionCanceledException', CancellationReasons: [{ Code: 'None' }, { Code }] });
    expect(isDependencyUnavailable(refused('TransactionConflict'))).toBe(true);
    expect(isDependencyUnavailable(wrapped(refused('ThrottlingError')))).toBe(true);
    expect(isDependencyUnavailable(refused('ConditionalCheckFailed'))).toBe(false);
    expect(isDependencyUnavailable(wrapped(new TypeError('a bug')))).toBe(false);
  });

  it('is false for the caller\'s or the code\'s mistakes, which must stay visible as such', async () => {
    expect(isDependencyUnavailable(await sdkErrorFor('validation'))).toBe(false);
    expect(isDependencyUnavailable(await sdkErrorFor('conditional'))).toBe(false);
    expect(isDependencyUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDependencyUnavailable('a string')).toBe(false);
  });
});

describe('the HTTP handlers\' DynamoDB budget', () => {
  it('gives up on a frozen endpoint within its documented ~8.2 s, far inside the 30 s of API Gateway', async () => {
    const started = Date.now();
    const error = await sdkErrorFor('hang', dynamoDbClient(HTTP_HANDLER_DYNAMODB_BUDGET));
    const elapsed = Date.now() - started;
    expect(isDependencyUnavailable(error)).toBe(true);
    expect((error as { $metadata?: { attempts?: number } }).$metadata?.attempts).toBe(HTTP_HANDLER_DYNAMODB_BUDGET.maxAttempts);
    expect(elapsed).toBeGreaterThanOrEqual(HTTP_HANDLER_DYNAMODB_BUDGET.requestTimeoutMs * HTTP_HANDLER_DYNAMODB_BUDGET.maxAttempts - 100);
    expect(elapsed).toBeLessThan(HTTP_HANDLER_DYNAMODB_BUDGET.requestTimeoutMs * HTTP_HANDLER_DYNAMODB_BUDGET.maxAttempts + 2_000);
  }, 30_000);
});

describe('serviceUnavailable', () => {
  it('is the API\'s error shape with a 503 and a Retry-After', () => {
    const result = serviceUnavailable().toResult();
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'content-type': 'application/json', 'retry-after': String(RETRY_AFTER_SECONDS) });
    expect(JSON.parse(result.body)).toEqual({ error: { code: 'SERVICE_UNAVAILABLE', message: expect.stringContaining('retry') } });
  });
});

describe('withinDeadline', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('answers from onTimeout DEADLINE_MARGIN_MS before the Lambda would time out, if the work has not answered', async () => {
    const answer = withinDeadline(10_000, new Promise<string>(() => undefined), () => 'late');
    let settled: string | undefined;
    void answer.then((value) => (settled = value));
    await jest.advanceTimersByTimeAsync(10_000 - DEADLINE_MARGIN_MS - 1);
    expect(settled).toBeUndefined();
    await jest.advanceTimersByTimeAsync(1);
    expect(settled).toBe('late');
  });

  it('answers with the work when it is in time', async () => {
    await expect(withinDeadline(10_000, Promise.resolve('done'), () => 'late')).resolves.toBe('done');
  });
});

describe('cart and read API handlers while DynamoDB does not answer', () => {
  const event = (routeKey: string, rawPath: string, extra: Partial<APIGatewayProxyEventV2> = {}) =>
    ({
      version: '2.0',
      routeKey,
      rawPath,
      rawQueryString: '',
      headers: {},
      requestContext: { http: { method: routeKey.split(' ')[0], path: rawPath } },
      isBase64Encoded: false,
      ...extra,
    }) as unknown as APIGatewayProxyEventV2;

  beforeAll(() => {
    Object.assign(process.env, { EVENT_STORE_TABLE: 'events', IDEMPOTENCY_TABLE: 'idem', CART_SUMMARY_TABLE: 'summary', ITEM_POPULARITY_TABLE: 'popularity', POWERTOOLS_METRICS_DISABLED: 'true' });
  });

  // One hangs (the budget's timeouts answer), the others fail fast (DynamoDB's 500, its throttling): same 503.
  it.each([
    ['cart API, a read, DynamoDB frozen', 'hang', 'cartApi', 'GET /carts/{cartId}', '/carts/0b7e8f5e-6a55-4c1e-8a3a-1d2f3c4b5a69', { pathParameters: { cartId: '0b7e8f5e-6a55-4c1e-8a3a-1d2f3c4b5a69' } }],
    ['cart API, a keyed command, DynamoDB failing', 'server-error', 'cartApi', 'POST /carts', '/carts', { headers: { 'idempotency-key': 'k-1' } }],
    ['read API, DynamoDB throttling', 'throttle', 'readApi', 'GET /read/items/top', '/read/items/top', {}],
  ] as const)('%s: 503 SERVICE_UNAVAILABLE with Retry-After, not a 500, within the budget', async (_, fault, lambda, routeKey, rawPath, extra) => {
    mode = fault;
    // The handler's WARN line goes to a captured logger, not the test run's output: asserted below.
    const warned = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
    const failed = jest.spyOn(logger, 'error').mockImplementation(() => undefined);
    const entry = lambda === 'cartApi' ? '../cart-api/handler' : '../read-api/handler';
    const { handler } = (await import(entry)) as { handler: (e: APIGatewayProxyEventV2, c: Context) => Promise<{ statusCode: number; headers?: Record<string, string>; body: string }> };
    const started = Date.now();
    // The Lambda's 30 s, as deployed (infra/constructs/registry-functions.ts).
    const deadline = started + 30_000;
    const context = { functionName: lambda, awsRequestId: `test-${started}`, getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
    const result = await handler(event(routeKey, rawPath, extra as Partial<APIGatewayProxyEventV2>), context);
    expect({ status: result.statusCode, retryAfter: result.headers?.['retry-after'], code: JSON.parse(result.body).error.code }).toEqual({
      status: 503,
      retryAfter: String(RETRY_AFTER_SECONDS),
      code: 'SERVICE_UNAVAILABLE',
    });
    // The SDK's budget answers it (one call, perhaps the idempotency record's clean-up after it), long before the
    // deadline's backstop at 30 s - DEADLINE_MARGIN_MS.
    const budgetMs = HTTP_HANDLER_DYNAMODB_BUDGET.requestTimeoutMs * HTTP_HANDLER_DYNAMODB_BUDGET.maxAttempts + 500;
    expect(Date.now() - started).toBeLessThan(2 * budgetMs);
    expect(warned).toHaveBeenCalledWith(lambda === 'cartApi' ? 'event store unavailable' : 'read models unavailable', expect.objectContaining({ routeKey }));
    expect(failed).not.toHaveBeenCalled();
    warned.mockRestore();
    failed.mockRestore();
  }, 40_000);
});
