import type { EventEnvelope } from '../../domain/events';
import { awsPipelineProbe, type AwsClients } from './aws-pipeline-probe';
import { API_RETRY_BUDGET_MS, SdkPipelineProbe, type SdkPipelineProbeParts } from './sdk-pipeline-probe';

const CART = '00000000-1111-4222-8333-444444444444';
const SINCE = new Date(Date.UTC(2026, 11, 5, 11, 0));
const RESOURCES = {
  eventStoreTable: 'qa-cart-events',
  eventsStream: 'qa-cart-events-stream',
  archiveBucket: 'qa-archive',
  replayStateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:qa-replay',
  eventLogLogGroup: '/aws/lambda/qa-eventLog',
  deadLetterQueueUrls: { 'cdc-pipe': 'https://sqs.eu-west-1.amazonaws.com/123456789012/qa-cdc-dlq', 'consumer-projections': 'https://sqs.eu-west-1.amazonaws.com/123456789012/qa-projections-dlq' },
};

function envelope(version: number): EventEnvelope {
  return { eventId: `e${version}`, aggregateType: 'Cart', aggregateId: CART, version, type: version === 1 ? 'CartOpened' : 'ItemAdded', schemaVersion: 1, occurredAt: SINCE.toISOString(), data: {} };
}

/** Each client's send replaced by a script that records the request (command name and input) and answers it. */
function scriptedClients(answers: Record<string, (input: any, call: number) => unknown>) {
  const sent: { command: string; input: any }[] = [];
  const client = {
    send: (async (command: { constructor: { name: string }; input: unknown }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      sent.push({ command: name, input: command.input });
      const answer = answers[name];
      if (!answer) throw new Error(`unscripted ${name}`);
      return answer(command.input, sent.filter((entry) => entry.command === name).length);
    }) as never,
  };
  const clients = { documents: client, kinesis: client, s3: client, sfn: client, sqs: client, logs: client } as unknown as AwsClients;
  return { clients, sent, of: (command: string) => sent.filter((entry) => entry.command === command).map((entry) => entry.input) };
}

const noApi = async () => ({ status: 500, body: undefined });

describe('verify --aws: the requests the AWS probe makes', () => {
  it("reads the stream from the run's start (AT_TIMESTAMP), every shard", async () => {
    const aws = scriptedClients({
      ListShards: () => ({ Shards: [{ ShardId: 'shardId-0' }] }),
      GetShardIterator: () => ({ ShardIterator: 'it-0' }),
      GetRecords: () => ({
        Records: [envelope(1), envelope(2)].map((event, index) => ({ SequenceNumber: String(index), PartitionKey: CART, ApproximateArrivalTimestamp: SINCE, Data: Buffer.from(JSON.stringify(event)) })),
        MillisBehindLatest: 0,
      }),
    });
    const records = await awsPipelineProbe(RESOURCES, noApi, aws.clients).streamRecords(CART, SINCE);
    expect(records.map((record) => [record.partitionKey, record.envelope?.eventId])).toEqual([[CART, 'e1'], [CART, 'e2']]);
    expect(aws.of('ListShards')[0]).toMatchObject({ StreamName: 'qa-cart-events-stream' });
    expect(aws.of('GetShardIterator')[0]).toEqual({ StreamName: 'qa-cart-events-stream', ShardId: 'shardId-0', ShardIteratorType: 'AT_TIMESTAMP', Timestamp: SINCE });
  });

  it("reads the event log's lines of the cart from its log group with a JSON filter pattern, every page, in time order", async () => {
    const aws = scriptedClients({
      FilterLogEvents: (_input, call) =>
        call === 1
          ? { events: [{ timestamp: 2, message: JSON.stringify({ message: 'cart event', eventId: 'e2', version: 2 }) }, { timestamp: 3, message: 'START RequestId' }], nextToken: 'page-2' }
          : { events: [{ timestamp: 1, message: JSON.stringify({ message: 'cart event', eventId: 'e1', version: 1 }) }] },
    });
    expect(await awsPipelineProbe(RESOURCES, noApi, aws.clients).eventLogLines(CART, SINCE)).toEqual([{ eventId: 'e1', version: 1 }, { eventId: 'e2', version: 2 }]);
    expect(aws.of('FilterLogEvents')).toEqual([
      { logGroupName: '/aws/lambda/qa-eventLog', startTime: SINCE.getTime(), filterPattern: `{ $.message = "cart event" && $.aggregateId = "${CART}" }`, nextToken: undefined },
      { logGroupName: '/aws/lambda/qa-eventLog', startTime: SINCE.getTime(), filterPattern: `{ $.message = "cart event" && $.aggregateId = "${CART}" }`, nextToken: 'page-2' },
    ]);
  });

  it('counts each dead-letter queue as visible plus in-flight messages, without receiving any', async () => {
    const aws = scriptedClients({ GetQueueAttributes: (input) => ({ Attributes: input.QueueUrl.includes('cdc') ? { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '1' } : { ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' } }) });
    expect(await awsPipelineProbe(RESOURCES, noApi, aws.clients).deadLetterCounts()).toEqual({ 'cdc-pipe': 3, 'consumer-projections': 0 });
    expect(aws.of('GetQueueAttributes')).toEqual(
      Object.values(RESOURCES.deadLetterQueueUrls).map((QueueUrl) => ({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] })),
    );
    expect(aws.sent.map((entry) => entry.command)).not.toContain('ReceiveMessage');
  });

  it('starts a dry-run replay of the window on the stack state machine and reads its output', async () => {
    const aws = scriptedClients({
      StartExecution: (input) => ({ executionArn: `${RESOURCES.replayStateMachineArn.replace('stateMachine', 'execution')}:${input.name}` }),
      DescribeExecution: () => ({ status: 'SUCCEEDED', output: JSON.stringify({ eventsRead: 7 }) }),
    });
    const probe = awsPipelineProbe(RESOURCES, noApi, aws.clients);
    const window = { from: '2026-12-05T11:00:00.000Z', to: '2026-12-05T11:59:59.999Z' };
    expect(await probe.dryRunReplay(window, Date.now() + 60_000)).toMatchObject({ status: 'SUCCEEDED', eventsRead: 7, executionName: expect.stringMatching(/^verify-/) });
    const [start] = aws.of('StartExecution');
    expect(start).toMatchObject({ stateMachineArn: RESOURCES.replayStateMachineArn, name: expect.stringMatching(/^verify-[0-9TZ-]+$/) });
    expect(JSON.parse(start.input)).toEqual({ ...window, target: 'projections', dryRun: true });
  });

  it('opens the probe cart and reads it back through the (signed) API calls it is given', async () => {
    const calls: unknown[][] = [];
    const api = async (method: string, path: string, body?: unknown) => {
      calls.push(body === undefined ? [method, path] : [method, path, body]);
      if (path === '/carts') return { status: 201, body: { cartId: CART, version: 1 } };
      if (path === `/read/carts/${CART}`) return { status: 200, body: { version: 2 } };
      return { status: 404, body: { error: 'NOT_FOUND' } };
    };
    const probe = awsPipelineProbe(RESOURCES, api, scriptedClients({}).clients);
    expect(await probe.openProbeCart()).toEqual({ cartId: CART, version: 1 });
    expect(await probe.readModelVersion(CART)).toBe(2);
    expect(calls).toEqual([['POST', '/carts', { probe: true }], ['GET', `/read/carts/${CART}`]]);
  });
});

describe('the probe sends its API calls as a careful client does (docs/api.md)', () => {
  const unavailable = { status: 503, body: { error: { code: 'SERVICE_UNAVAILABLE' } }, retryAfter: 0 };
  const inProgress = { status: 409, body: { error: { code: 'IDEMPOTENT_REQUEST_IN_PROGRESS' } }, retryAfter: 0 };

  function scriptedApi(answers: { status: number; body: unknown; retryAfter?: number }[]) {
    const calls: { method: string; path: string; key: string | undefined }[] = [];
    const api = async (method: 'GET' | 'POST', path: string, _body?: unknown, headers?: Record<string, string>) => {
      calls.push({ method, path, key: headers?.['idempotency-key'] });
      return answers.shift() ?? { status: 500, body: 'unscripted' };
    };
    return { api, calls };
  }

  it('sends a write again with the same Idempotency-Key after a 503 or a 409 in progress, so one transient refusal does not fail the api hop', async () => {
    const { api, calls } = scriptedApi([unavailable, inProgress, { status: 201, body: { cartId: CART, version: 1 } }]);
    expect(await awsPipelineProbe(RESOURCES, api, scriptedClients({}).clients).openProbeCart()).toEqual({ cartId: CART, version: 1 });
    expect(calls).toHaveLength(3);
    expect(calls[0]!.key).toEqual(expect.any(String));
    expect(new Set(calls.map(({ key }) => key))).toEqual(new Set([calls[0]!.key]));
  });

  it('gives each write its own key, and sends a read without one', async () => {
    const { api, calls } = scriptedApi([{ status: 200, body: { version: 2 } }, { status: 200, body: { version: 3 } }, { status: 200, body: { cartId: CART, version: 3, items: [] } }]);
    const probe = awsPipelineProbe(RESOURCES, api, scriptedClients({}).clients);
    await probe.addItem(CART, 'verify-probe', 1);
    await probe.addItem(CART, 'verify-probe', 1);
    await probe.readCart(CART);
    expect(calls[0]!.key).not.toBe(calls[1]!.key);
    expect(calls[2]).toEqual({ method: 'GET', path: `/carts/${CART}`, key: undefined });
  });

  it('fails the call, naming the refusals, once the API keeps refusing past the budget, and does not retry a real error', async () => {
    const refusing = scriptedApi(Array.from({ length: 1_000 }, () => ({ ...unavailable, retryAfter: 0.01 })));
    // Only the API calls are exercised: the other parts stay out.
    const probe = new SdkPipelineProbe({ where: 'aws', pollIntervalMs: 1, api: refusing.api, apiRetryBudgetMs: 200 } as unknown as SdkPipelineProbeParts);
    await expect(probe.openProbeCart()).rejects.toThrow(/^POST \/carts answered 503 \(after \d+ transient refusal\(s\): 503\)/);
    expect(refusing.calls.length).toBeGreaterThan(2);
    expect(refusing.calls.length).toBeLessThan(1_000);
    const invalid = scriptedApi([{ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } }]);
    await expect(awsPipelineProbe(RESOURCES, invalid.api, scriptedClients({}).clients).openProbeCart()).rejects.toThrow('POST /carts answered 400');
    expect(invalid.calls).toHaveLength(1);
  });

  it('keeps sending a write whose key is IN_PROGRESS for as long as the idempotency lock can be held (the API Lambda\'s 30 s)', () => {
    expect(API_RETRY_BUDGET_MS).toBeGreaterThan(30_000);
  });
});
