import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { z } from 'zod';
import { archiveByHour, describeArchiveObject, isArchiveEventKey } from '../../application/archive-browsing';
import { inspectCart } from '../../application/cart-inspection';
import { deadLetterKind, redriveDeadLetters } from '../../application/dead-letter-redrive';
import { dynamoDbClient, dynamoDbDocumentClient, dynamoDbStreamsClient, kinesisClient, s3Client } from '../../adapters/aws-clients';
import { JsonLinesDeadLetterInbox } from '../../adapters/dead-letters/json-lines-dead-letter-inbox';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { generationalReadModels } from '../../adapters/dynamodb/read-models';
import { KinesisStreamTail } from '../../adapters/kinesis/stream-tail';
import { S3ArchiveObjects } from '../../adapters/s3/replay-archive';
import { UsageError } from '../../cli/replay-run';
import type { HealthReport } from '../api/health';
import { localDeadLetterFile, type LocalConfig } from '../config';
import { ConsoleExecutions, machineOf, MACHINES, type MachineName } from './executions';
import { LiveStream } from './live-stream';
import { createPipelineStatus } from './pipeline-status';
import { localRedrivers } from './redrivers';

const STATIC_DIR = join(__dirname, 'static');
const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
const MAX_BODY_BYTES = 64 * 1024;
const CartId = z.uuid();

/** A 4xx answer with a JSON body naming the problem. */
class ClientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ConsoleHandler {
  /** Answers the request when its path is under /console; false otherwise (the API's routes take it). */
  handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean>;
  stop(): Promise<void>;
}

/**
 * The operations console of the local stack, served by the API server under /console: static HTML, CSS and
 * JavaScript modules (no build step) and a JSON API under /console/api/ over the same read-side code as the
 * `cdc-cart` CLI (application/ and adapters/).
 */
export function createConsole(config: LocalConfig, health: () => Promise<HealthReport>): ConsoleHandler {
  const kinesis = kinesisClient();
  const dynamodb = dynamoDbClient();
  const documents = dynamoDbDocumentClient(dynamodb);
  const store = new DynamoDbEventStore(documents, config.resources.eventStoreTable);
  // Through the generation pointer, as the read API reads them (a rebuild may have switched generations).
  const readModels = generationalReadModels(documents, { cartSummary: config.resources.cartSummaryTable, itemPopularity: config.resources.itemPopularityTable });
  const archive = new S3ArchiveObjects(s3Client(), config.resources.archiveBucket);
  const tail = new KinesisStreamTail(kinesis, config.resources.eventsStream);
  const live = new LiveStream(tail);
  const inbox = new JsonLinesDeadLetterInbox(localDeadLetterFile(config));
  const streams = dynamoDbStreamsClient();
  const redrivers = localRedrivers(config, kinesis, tail, streams);
  const executions = new ConsoleExecutions();
  const pipeline = createPipelineStatus({ config, health, dynamodb, streams, tail, eventsPerSecond: () => live.eventsPerSecond() });
  let redriving: Promise<unknown> = Promise.resolve();
  /** Open server-sent-event responses: they never go idle, so stop() ends them. */
  const liveResponses = new Set<ServerResponse>();

  type Route = (request: IncomingMessage, url: URL, params: string[], response: ServerResponse) => Promise<unknown>;
  const routes: { method: string; pattern: RegExp; run: Route }[] = [
    { method: 'GET', pattern: /^\/carts$/, run: async () => (await live.ready(), { carts: recentCarts(live) }) },
    {
      method: 'GET',
      pattern: /^\/carts\/([^/]+)$/,
      run: async (_request, _url, [cartId]) => {
        if (!CartId.safeParse(cartId).success) throw new ClientError(400, 'INVALID_CART_ID', `the cart id must be a UUID, got "${cartId}"`);
        return inspectCart(store, readModels, cartId!);
      },
    },
    { method: 'GET', pattern: /^\/stream$/, run: async (_request, url) => (await live.ready(), { records: live.recent(streamFilter(url)), eventsPerSecond: live.eventsPerSecond(), ...(live.error ? { error: live.error } : {}) }) },
    { method: 'GET', pattern: /^\/stream\/live$/, run: async (request, url, _params, response) => serveStreamEvents(request, response, live, streamFilter(url), liveResponses) },
    { method: 'GET', pattern: /^\/pipeline$/, run: () => pipeline() },
    { method: 'GET', pattern: /^\/dead-letters$/, run: async () => ({ letters: (await inbox.pending()).map((letter) => ({ ...letter, kind: deadLetterKind(letter) ?? 'unknown' })), file: inbox.file }) },
    {
      method: 'POST',
      pattern: /^\/dead-letters\/redrive$/,
      run: async (request) => {
        const body = RedriveRequest.safeParse(await readJson(request));
        if (!body.success) throw new ClientError(400, 'INVALID_REDRIVE_REQUEST', 'send {"ids": ["<letter id>", ...]} or {"all": true}');
        // One redrive at a time: two at once could send the same letter twice.
        const run = redriving.then(() => redriveDeadLetters(inbox, redrivers, 'all' in body.data ? 'all' : body.data.ids));
        redriving = run.catch(() => undefined);
        const outcomes = await run;
        return { outcomes, redriven: outcomes.filter((o) => o.redriven).length, failed: outcomes.filter((o) => !o.redriven).length };
      },
    },
    { method: 'GET', pattern: /^\/archive$/, run: async () => ({ hours: await archiveByHour(archive), bucket: config.resources.archiveBucket }) },
    {
      method: 'GET',
      pattern: /^\/archive\/object$/,
      run: async (_request, url) => {
        const key = url.searchParams.get('key') ?? '';
        if (!isArchiveEventKey(key)) throw new ClientError(400, 'INVALID_KEY', 'key must name an archive object under events/');
        const text = await archive.read(key);
        if (text === undefined) throw new ClientError(404, 'OBJECT_NOT_FOUND', `no archive object ${key}`);
        return describeArchiveObject(key, text);
      },
    },
    { method: 'GET', pattern: /^\/executions$/, run: async () => ({ executions: await executions.list() }) },
    {
      method: 'POST',
      pattern: /^\/executions$/,
      run: async (request, _url, _params, response) => {
        const body = StartRequest.safeParse(await readJson(request));
        if (!body.success) throw new ClientError(400, 'INVALID_EXECUTION_REQUEST', `send {"machine": "replay"|"backfill", "flags": {...}}: ${body.error.issues[0]?.path.join('.')}: ${body.error.issues[0]?.message}`);
        const started = await executions.start(body.data.machine, body.data.flags);
        response.statusCode = 202;
        return started;
      },
    },
    {
      method: 'POST',
      pattern: /^\/executions\/([^/]+)\/redrive$/,
      run: async (_request, _url, [arn], response) => {
        try {
          machineOf(arn!);
        } catch (error) {
          throw new ClientError(400, 'INVALID_EXECUTION_ARN', (error as Error).message);
        }
        try {
          const redriven = await executions.redrive(arn!);
          response.statusCode = 202;
          return redriven;
        } catch (error) {
          const name = (error as Error).name;
          if (name === 'ExecutionNotRedrivable' || name === 'ExecutionDoesNotExist') throw new ClientError(name === 'ExecutionDoesNotExist' ? 404 : 409, name === 'ExecutionDoesNotExist' ? 'EXECUTION_NOT_FOUND' : 'EXECUTION_NOT_REDRIVABLE', (error as Error).message);
          throw error;
        }
      },
    },
    {
      method: 'GET',
      pattern: /^\/executions\/([^/]+)$/,
      run: async (_request, _url, [arn]) => {
        let machine: MachineName;
        try {
          machine = machineOf(arn!);
        } catch (error) {
          throw new ClientError(400, 'INVALID_EXECUTION_ARN', (error as Error).message);
        }
        return executions.describe(arn!, machine);
      },
    },
  ];

  async function handle(request: IncomingMessage, response: ServerResponse, path: string): Promise<boolean> {
    if (path !== '/console' && !path.startsWith('/console/')) return false;
    const isPage = path === '/console' || path === '/console/' || path.startsWith('/console/static/');
    if (isPage && request.method !== 'GET' && request.method !== 'HEAD') {
      sendJson(response, 405, { error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${path}; use GET` } });
      return true;
    }
    if (path === '/console' || path === '/console/') return serveStatic(response, 'index.html').then(() => true);
    if (path.startsWith('/console/static/')) return serveStatic(response, path.slice('/console/static/'.length)).then(() => true);
    const url = new URL(request.url ?? '/', 'http://console.local');
    const apiPath = path.startsWith('/console/api/') ? path.slice('/console/api'.length) : undefined;
    try {
      if (apiPath === undefined) throw new ClientError(404, 'NOT_FOUND', `nothing at ${path}; the console is at /console`);
      const candidates = routes.filter((route) => route.pattern.test(apiPath));
      if (candidates.length === 0) throw new ClientError(404, 'NOT_FOUND', `no console API route ${apiPath}`);
      const route = candidates.find((candidate) => candidate.method === request.method);
      if (!route) throw new ClientError(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${apiPath}; use ${candidates.map((c) => c.method).join(' or ')}`);
      const params = route.pattern.exec(apiPath)!.slice(1).map(decode);
      const result = await route.run(request, url, params, response);
      if (!response.headersSent && !response.writableEnded) sendJson(response, response.statusCode, result);
    } catch (error) {
      const failure = asClientError(error);
      if (failure) sendJson(response, failure.status, { error: { code: failure.code, message: failure.message } });
      else {
        console.error('[console] request failed', error);
        sendJson(response, 500, { error: { code: 'INTERNAL_ERROR', message: (error as Error).message } });
      }
    }
    return true;
  }

  return {
    handle,
    stop: async () => {
      for (const response of liveResponses) response.end();
      await live.stop();
    },
  };
}

const RedriveRequest = z.union([z.strictObject({ all: z.literal(true) }), z.strictObject({ ids: z.array(z.string().min(1)).min(1).max(1_000) })]);
const Flags = z.strictObject({
  target: z.string().optional(),
  from: z.string().optional(),
  to: z.string().optional(),
  projections: z.string().optional(),
  rebuild: z.boolean().optional(),
  'retire-after': z.string().optional(),
  'dry-run': z.boolean().optional(),
  'max-bad-lines': z.string().optional(),
  'max-bad-lines-percent': z.string().optional(),
  segments: z.string().optional(),
  name: z.string().optional(),
});
const StartRequest = z.strictObject({ machine: z.enum(MACHINES), flags: Flags.default({}) });

function asClientError(error: unknown): ClientError | undefined {
  if (error instanceof ClientError) return error;
  if (error instanceof UsageError) return new ClientError(400, 'INVALID_INPUT', error.message);
  const name = (error as Error).name;
  if (name === 'ExecutionAlreadyExists') return new ClientError(409, 'EXECUTION_ALREADY_EXISTS', (error as Error).message);
  if (name === 'InvalidName') return new ClientError(400, 'INVALID_NAME', (error as Error).message);
  if (name === 'ExecutionDoesNotExist') return new ClientError(404, 'EXECUTION_NOT_FOUND', (error as Error).message);
  return undefined;
}

function recentCarts(live: LiveStream): { cartId: string; version: number; lastEventAt: string }[] {
  const carts = new Map<string, { cartId: string; version: number; lastEventAt: string }>();
  for (const record of live.recent({ limit: 2_000 })) {
    const envelope = record.envelope;
    if (!envelope) continue;
    carts.delete(envelope.aggregateId);
    carts.set(envelope.aggregateId, { cartId: envelope.aggregateId, version: Math.max(envelope.version, carts.get(envelope.aggregateId)?.version ?? 0), lastEventAt: record.arrivedAt });
  }
  return [...carts.values()].reverse().slice(0, 20);
}

function streamFilter(url: URL): { cartId?: string; limit?: number } {
  const cartId = url.searchParams.get('cart')?.trim();
  const limitText = url.searchParams.get('limit');
  const limit = limitText === null ? 200 : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 2_000) throw new ClientError(400, 'INVALID_LIMIT', `limit must be a whole number from 1 to 2000, got "${limitText}"`);
  return { ...(cartId ? { cartId } : {}), limit };
}

/** Server-sent events: one `record` event per new stream record (matching the cart filter), until the page goes. */
async function serveStreamEvents(request: IncomingMessage, response: ServerResponse, live: LiveStream, filter: { cartId?: string }, open: Set<ServerResponse>): Promise<void> {
  open.add(response);
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'close' });
  response.write(': connected\n\n');
  const unsubscribe = live.subscribe((record) => {
    if (filter.cartId && record.partitionKey !== filter.cartId && record.envelope?.aggregateId !== filter.cartId) return;
    response.write(`event: record\ndata: ${JSON.stringify(record)}\n\n`);
  });
  const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 15_000);
  await new Promise<void>((resolve) => {
    request.once('close', resolve);
    response.once('close', resolve);
  });
  clearInterval(keepAlive);
  unsubscribe();
  open.delete(response);
  response.end();
}

async function serveStatic(response: ServerResponse, name: string): Promise<void> {
  const type = CONTENT_TYPES[extname(name)];
  if (!/^[a-z0-9-]+\.[a-z]+$/.test(name) || !type) return sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `no console file ${name}` } });
  try {
    const body = await readFile(join(STATIC_DIR, name));
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
    response.end(body);
  } catch {
    sendJson(response, 404, { error: { code: 'NOT_FOUND', message: `no console file ${name}` } });
  }
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ClientError(413, 'PAYLOAD_TOO_LARGE', `the body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new ClientError(400, 'INVALID_JSON', 'the body is not JSON');
  }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ClientError(400, 'INVALID_PATH', `malformed escape in "${segment}"`);
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}
