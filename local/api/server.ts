import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { HTTP_ROUTES } from '../../lambdas/http-routes';
import { payloadTooLarge } from '../../lambdas/http/requests';
import type { LambdaName } from '../../lambdas/registry';
import { LOCAL_HOST } from '../config';
import { installAwsCallChaos } from '../chaos/aws-call-faults';
import { chaosFromEnvironment } from '../chaos/chaos';
import { invokeLocal, loadHandler, type AnyHandler } from '../lambda/invoke';
import type { LocalComponent } from '../process/component';
import { createConsole } from '../console/server';
import { createHealthCheck } from './health';
import { matchRoute, rawPathOf, toHttpApiEvent } from './http-event';

/**
 * API Gateway refuses payloads over 10 MB; locally the server keeps at most 1 MiB of a body, still far above the
 * API's own limit. Either way the answer names the API's limit (MAX_BODY_BYTES), the one clients must respect.
 */
const MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * The local stand-in for API Gateway's HTTP API: the same routes (lambdas/http-routes.ts), the same payload v2
 * events, the same handlers. It adds GET /health and the operations console under /console (local/console/),
 * which exist only locally.
 */
export const apiServer: LocalComponent = {
  name: 'api',
  async start(config) {
    // The API handlers' clients see lost write answers too (no stalls: the API's own budget is tested elsewhere).
    installAwsCallChaos(chaosFromEnvironment('api', config.dataDir), { stalls: false });
    // The supervisor says which services run beside this one (local/stack.ts): each must show a fresh heartbeat.
    const health = createHealthCheck(config, 'api', (process.env.LOCAL_SERVICES ?? 'api').split(','));
    const handlers = new Map<LambdaName, AnyHandler>();
    const handlerFor = (name: LambdaName) => {
      let handler = handlers.get(name);
      if (!handler) handlers.set(name, (handler = loadHandler(name)));
      return handler;
    };
    // Load every handler now, so a broken one fails the start instead of the first request.
    for (const { lambda } of HTTP_ROUTES) handlerFor(lambda);
    const routeKeys = HTTP_ROUTES.map((route) => route.routeKey);
    const operationsConsole = createConsole(config, health);

    const server = createServer((request, response) => {
      void serve(request, response).catch((error: Error) => {
        console.error('request failed', error);
        if (!response.headersSent) send(response, 500, { error: { code: 'INTERNAL_ERROR', message: 'internal error' } });
      });
    });

    async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
      const path = rawPathOf(request);
      if (request.method === 'GET' && path === '/health') {
        const report = await health();
        return send(response, report.status === 'ok' ? 200 : 503, report);
      }
      if (await operationsConsole.handle(request, response, path)) return;
      const body = await readBody(request);
      if (body === 'too-large') {
        const refused = payloadTooLarge();
        return send(response, refused.statusCode, { error: { code: refused.code, message: refused.message } }, true);
      }
      const match = matchRoute(routeKeys, request.method ?? 'GET', path)!;
      const lambda = HTTP_ROUTES.find((route) => route.routeKey === match.routeKey)!.lambda;
      const result = await invokeLocal<{ statusCode: number; headers?: Record<string, string>; body?: string }>(
        lambda,
        toHttpApiEvent(request, body, match),
        handlerFor(lambda),
      );
      response.writeHead(result.statusCode, result.headers ?? {});
      response.end(result.body ?? '');
    }

    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.ports.api, LOCAL_HOST, () => resolve());
    });
    return {
      stop: async () => {
        await operationsConsole.stop();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
      },
    };
  },
};

/**
 * An oversized body is still read to its end (up to MAX_DRAINED_BYTES, then the connection is cut) but not kept:
 * answering 413 while the client is still sending made some clients fail on EPIPE before reading the answer.
 */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

function readBody(request: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DRAINED_BYTES) {
        resolve('too-large');
        request.destroy();
      } else if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size > MAX_REQUEST_BYTES ? 'too-large' : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown, close = false): void {
  response.writeHead(status, { 'content-type': 'application/json', ...(close ? { connection: 'close' } : {}) });
  response.end(JSON.stringify(body));
}
