import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { retriedCommand, sendRetried, type RetriedAnswer } from './local-stack';

/** A scripted API: each request gets the next answer of the script; `reset` closes the socket without an answer. */
type Scripted = { status: number; code?: string; retryAfter?: string } | 'reset';

let server: Server;
let apiUrl: string;
let script: Scripted[];
let seen: { method: string; key: string | undefined; body: string }[];

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      seen.push({ method: request.method!, key: request.headers['idempotency-key'] as string | undefined, body });
      const next = script.shift() ?? { status: 200 };
      if (next === 'reset') return request.socket.destroy();
      response.writeHead(next.status, { 'content-type': 'application/json', ...(next.retryAfter ? { 'retry-after': next.retryAfter } : {}) });
      response.end(JSON.stringify(next.code ? { error: { code: next.code } } : { ok: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  script = [];
  seen = [];
});

const unavailable = { status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '0' };
const inProgress = { status: 409, code: 'IDEMPOTENT_REQUEST_IN_PROGRESS', retryAfter: '0' };

describe('a careful client (sendRetried, retriedCommand)', () => {
  it('sends a write again with the same Idempotency-Key after a 503, a 409 in progress and no answer, until it is answered', async () => {
    script = [unavailable, inProgress, 'reset', { status: 201 }];
    const response = await retriedCommand('POST', '/carts', { customer: 'c' }, { apiUrl });
    expect(response.status).toBe(201);
    expect(seen).toHaveLength(4);
    expect(new Set(seen.map(({ key }) => key)).size).toBe(1);
    expect(seen[0]!.key).toEqual(expect.any(String));
    expect(seen.every(({ body }) => body === '{"customer":"c"}')).toBe(true);
  });

  it('returns any other answer at once: a 409 conflict or a 400 is the caller\'s to judge', async () => {
    script = [{ status: 409, code: 'VERSION_CONFLICT' }];
    expect((await retriedCommand('POST', '/carts', undefined, { apiUrl })).status).toBe(409);
    script = [{ status: 400, code: 'VALIDATION_FAILED' }];
    expect((await retriedCommand('POST', '/carts', undefined, { apiUrl })).status).toBe(400);
    expect(seen).toHaveLength(2);
  });

  it('gives up after its attempts, with the last answer and what it saw', async () => {
    script = [unavailable, unavailable, inProgress];
    const answers: RetriedAnswer[] = [];
    const { response, gaveUp } = await sendRetried('POST', '/carts', { apiUrl, attempts: 3, onAnswer: (answer) => answers.push(answer) });
    expect(response.status).toBe(409);
    expect(gaveUp).toMatch(/^POST \/carts after 3 sends in \d+ s: 503 SERVICE_UNAVAILABLE x2, 409 IDEMPOTENT_REQUEST_IN_PROGRESS x1$/);
    expect(answers.map(({ status, code, retryAfter }) => ({ status, code, retryAfter }))).toEqual([
      { status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '0' },
      { status: 503, code: 'SERVICE_UNAVAILABLE', retryAfter: '0' },
      { status: 409, code: 'IDEMPOTENT_REQUEST_IN_PROGRESS', retryAfter: '0' },
    ]);
  });

  it('names a call that never got an answer as status 0 with the network error', async () => {
    script = ['reset', 'reset'];
    const { response, gaveUp } = await sendRetried('GET', '/carts/x', { apiUrl, attempts: 2 });
    expect(response.status).toBe(0);
    expect(gaveUp).toMatch(/^GET \/carts\/x after 2 sends in \d+ s: no answer \(\S+\) x2$/);
  });
});
