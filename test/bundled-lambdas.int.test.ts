import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, KinesisStreamBatchResponse } from 'aws-lambda';
import { dynamoDbDocumentClient, s3Client } from '../adapters/aws-clients';
import { DynamoDbEventStore } from '../adapters/dynamodb/event-store';
import type { EventEnvelope } from '../domain/events';
import { LAMBDA_BUNDLING } from '../infra/lambda-bundling';
import { bundleLambdas, esbuildOptionsFor } from '../local/lambda/bundle';
import { toKinesisStreamEvent } from '../local/kinesis-consumer/stream-event';
import { LAMBDAS, type LambdaName } from '../lambdas/registry';
import { invokeBundled } from './support/bundled-lambdas';
import { ENV } from '../lambdas/environment';
import { StreamRecordFactory } from './support/cdc-stream-records';
import { archivedLines, eventually } from './support/consumers';
import { testStack } from './support/local-stack';

/**
 * The artifacts `cdk deploy` ships are the ones that work: every handler of lambdas/registry.ts is bundled with
 * the options infra/ gives NodejsFunction, then each bundle is invoked in a plain Node.js process against this
 * run's local stack, with an event shaped as its trigger sends it, and must do its real work.
 */
let bundlesDir: string;
const invoked = new Set<LambdaName>();

async function invoke<T>(name: LambdaName, event: unknown, env: Record<string, string> = {}) {
  invoked.add(name);
  return invokeBundled<T>(bundlesDir, name, event, env);
}

function httpEvent(method: string, routeKey: string, rawPath: string, options: { pathParameters?: Record<string, string>; body?: unknown; headers?: Record<string, string> } = {}): APIGatewayProxyEventV2 {
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { host: 'bundled.test', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
    ...(options.pathParameters ? { pathParameters: options.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'bundled',
      domainName: 'bundled.test',
      domainPrefix: 'bundled',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    isBase64Encoded: false,
  };
}

const kinesisEvent = (envelopes: readonly EventEnvelope[]) =>
  toKinesisStreamEvent(
    envelopes.map((e, i) => ({ Data: Buffer.from(JSON.stringify(e)), PartitionKey: e.aggregateId, SequenceNumber: `4960000000000000000000000000000000000000000000000000${i}`, ApproximateArrivalTimestamp: new Date() })),
    { streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${testStack().resources.eventsStream}`, shardId: 'shardId-000000000000', region: 'us-east-1' },
  );

type HttpAnswer = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

describe('the bundles cdk deploy ships', () => {
  beforeAll(async () => {
    bundlesDir = mkdtempSync(join(tmpdir(), 'cdc-cart-bundles-'));
    await bundleLambdas(bundlesDir);
  }, 180_000);

  afterAll(() => rmSync(bundlesDir, { recursive: true, force: true }));

  it('are built with exactly the esbuild options CDK derives from infra\'s bundling options', () => {
    expect(esbuildOptionsFor(LAMBDA_BUNDLING)).toMatchObject({ bundle: true, platform: 'node', target: 'node22', format: 'cjs', minify: true, sourcemap: true, external: [] });
    // An option infra adds that the local bundling would not pass on is refused, not ignored.
    expect(() => esbuildOptionsFor({ ...LAMBDA_BUNDLING, keepNames: true })).toThrow(/keepNames/);
  });

  it('each handler of the registry does its real work when invoked with its trigger\'s event', async () => {
    // Cart API (API Gateway HTTP API, payload v2): open a cart, add an item, read it back.
    const opened = (await invoke<HttpAnswer>('cartApi', httpEvent('POST', 'POST /carts', '/carts'))).result;
    expect(opened.statusCode).toBe(201);
    const cartId: string = JSON.parse(opened.body).cartId;
    const added = (await invoke<HttpAnswer>('cartApi', httpEvent('POST', 'POST /carts/{cartId}/items', `/carts/${cartId}/items`, { pathParameters: { cartId }, body: { sku: 'BUNDLED-1', quantity: 2 }, headers: { 'idempotency-key': randomUUID() } }))).result;
    expect({ status: added.statusCode, body: JSON.parse(added.body) }).toEqual({ status: 200, body: { cartId, version: 2 } });
    const read = (await invoke<HttpAnswer>('cartApi', httpEvent('GET', 'GET /carts/{cartId}', `/carts/${cartId}`, { pathParameters: { cartId } }))).result;
    expect(JSON.parse(read.body)).toMatchObject({ cartId, status: 'OPEN', version: 2, items: [{ sku: 'BUNDLED-1', quantity: 2 }] });
    const stored = (await new DynamoDbEventStore(dynamoDbDocumentClient(), testStack().resources.eventStoreTable).readStream(cartId)).events;
    expect(stored.map((e) => e.type)).toEqual(['CartOpened', 'ItemAdded']);

    // CDC enrichment (Pipe enrichment: the batch of DynamoDB stream records): one envelope per stored event.
    const records = new StreamRecordFactory({ dynamoDbLocalEmptyMaps: true }).eventPerItem([{ cartId, events: stored }]);
    const enriched = (await invoke<EventEnvelope[]>('cdcEnrichment', records)).result;
    expect(enriched.map(({ eventId, version, type, data }) => ({ eventId, version, type, data }))).toEqual(stored.map(({ eventId, version, type, data }) => ({ eventId, version, type, data })));

    // Event log (Kinesis event): one log line per event, no failed record. The live stack's own event-log consumer
    // logs the stored cart's events (and claims their positions) as the CDC pipe delivers them, so the bundle gets a
    // cart no live consumer ever sees: fresh ids, the stored events' shapes, versions 1.. with nothing to catch up.
    const loggedCart = randomUUID();
    const onlyForTheLog = enriched.map((e) => ({ ...e, eventId: randomUUID(), aggregateId: loggedCart }));
    const logged = await invoke<KinesisStreamBatchResponse>('eventLog', kinesisEvent(onlyForTheLog));
    expect(logged.result).toEqual({ batchItemFailures: [] });
    for (const event of onlyForTheLog) expect(logged.stdout).toContain(event.eventId);

    // Projections (Kinesis event) then the read API (HTTP): a cart only these two invocations know of.
    const projectedCart = randomUUID();
    const onlyHere: EventEnvelope[] = [
      { ...enriched[0]!, eventId: randomUUID(), aggregateId: projectedCart },
      { ...enriched[1]!, eventId: randomUUID(), aggregateId: projectedCart, data: { sku: 'BUNDLED-PROJECTED', quantity: 3 } },
    ];
    const projected = await invoke<KinesisStreamBatchResponse>('projections', kinesisEvent(onlyHere));
    expect(projected.result).toEqual({ batchItemFailures: [] });
    const summary = (await invoke<HttpAnswer>('readApi', httpEvent('GET', 'GET /read/carts/{cartId}', `/read/carts/${projectedCart}`, { pathParameters: { cartId: projectedCart } }))).result;
    expect({ status: summary.statusCode, body: JSON.parse(summary.body) }).toEqual({
      status: 200,
      body: { cartId: projectedCart, status: 'OPEN', items: [{ sku: 'BUNDLED-PROJECTED', quantity: 3 }], totalQuantity: 3, version: 2 },
    });

    // Replay steps (Step Functions task inputs, as statemachines/replay.asl.json builds them).
    const startedAt = new Date().toISOString();
    const plan = (await invoke<{ valid: boolean; replay: { prefix: string; projections: string[] } & Record<string, unknown> }>('replayPlan', { input: { target: 'projections', dryRun: true }, executionName: `bundled-${randomUUID()}`, startedAt })).result;
    expect(plan).toMatchObject({ valid: true, replay: { target: 'projections', dryRun: true, prefix: expect.stringMatching(/^events\//) } });
    expect((await invoke('replayGenerations', { step: 'abandon', replay: { ...plan.replay, generation: 999_999 } })).result).toEqual({ abandoned: 999_999, deleted: 0 });
    const archived = await eventually('the cart archived', async () => (await archivedLines()).find((line) => line.envelope.aggregateId === cartId), 60_000);
    const objectResult = (await invoke<{ key: string; inWindow: boolean; eventsRead: number }>('replayObject', { key: archived.key, replay: plan.replay })).result;
    expect(objectResult).toMatchObject({ key: archived.key, inWindow: true, applied: 0 });
    expect(objectResult.eventsRead).toBeGreaterThan(0);
    const manifestKey = await writeMapRunResults([objectResult]);
    const replaySummary = (await invoke('replaySummary', { replay: plan.replay, mapRun: { ResultWriterDetails: { Bucket: testStack().resources.archiveBucket, Key: manifestKey } } })).result;
    expect(replaySummary).toMatchObject({ succeeded: true, summary: { objects: 1, eventsRead: objectResult.eventsRead } });

    // Backfill steps (statemachines/backfill.asl.json), as a dry run: nothing is written to the archive.
    const backfillPlan = (await invoke<{ valid: boolean; backfill: Record<string, unknown> }>('backfillPlan', { input: { segments: 1, dryRun: true }, executionName: `bundled-${randomUUID()}`, startedAt })).result;
    expect(backfillPlan).toMatchObject({ valid: true, backfill: { totalSegments: 1, dryRun: true } });
    const segment = (await invoke<{ done: boolean; totals: { scanned: number } }>('backfillSegment', { segment: 0, backfill: backfillPlan.backfill })).result;
    expect(segment.done).toBe(true);
    expect(segment.totals.scanned).toBeGreaterThanOrEqual(stored.length);
    const backfillSummary = (await invoke('backfillSummary', { backfill: backfillPlan.backfill, segmentResults: [segment] })).result;
    expect(backfillSummary).toMatchObject({ succeeded: true, summary: { scanned: segment.totals.scanned } });

    // The canary as deployed: its AWS probe, SigV4-signed API calls. Against the local stack the API and the event store
    // answer; kinesalite does not serve AT_TIMESTAMP iterators, and CloudWatch Logs and SQS have no emulator here
    // (nothing listens on port 9), so the later hops fail within the invocation's budget and the run says so.
    const canary = await invoke<{ ok: boolean; failed: string[] }>('canary', { source: 'aws.scheduler' }, {
      [ENV.canaryApiUrl]: testStack().apiUrl,
      [ENV.replayStateMachineArn]: 'arn:aws:states:us-east-1:000000000000:stateMachine:replay',
      [ENV.eventLogLogGroup]: '/aws/lambda/eventLog',
      [ENV.deadLetterQueueUrls]: 'cdc-pipe=http://127.0.0.1:9/000000000000/cdc-pipe',
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: 'http://127.0.0.1:9',
      AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9',
    });
    expect(canary.result.ok).toBe(false);
    expect(canary.result.failed).toContain('dead-letters');
    expect(canary.result.failed).not.toContain('api');
    expect(canary.result.failed).not.toContain('event-store');

    expect([...invoked].sort()).toEqual((Object.keys(LAMBDAS) as LambdaName[]).sort());
  }, 300_000);
});

/** A Distributed Map ResultWriter export of these children's outputs, as AWS (and the local endpoint) write it. */
async function writeMapRunResults(outputs: readonly unknown[]): Promise<string> {
  const prefix = `replay-results/bundled-${randomUUID()}`;
  const put = (Key: string, body: unknown) => s3Client().send(new PutObjectCommand({ Bucket: testStack().resources.archiveBucket, Key, Body: JSON.stringify(body) }));
  await put(`${prefix}/SUCCEEDED_0.json`, outputs.map((output) => ({ Status: 'SUCCEEDED', Output: JSON.stringify(output) })));
  await put(`${prefix}/manifest.json`, { ResultFiles: { SUCCEEDED: [{ Key: `${prefix}/SUCCEEDED_0.json` }] } });
  return `${prefix}/manifest.json`;
}
