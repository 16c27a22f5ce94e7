import { randomUUID } from 'node:crypto';
import { loadLocalConfig, endpointOf, type LocalConfig } from '../../local/config';

/** The stack that global-setup started for this run. */
export function testStack(): LocalConfig & { apiUrl: string } {
  const config = loadLocalConfig();
  return { ...config, apiUrl: endpointOf(config.ports.api) };
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** One HTTP call to the local cart API; the body is parsed as JSON when there is one. */
export async function api<T = any>(method: string, path: string, options: { body?: unknown; rawBody?: string; headers?: Record<string, string>; apiUrl?: string } = {}): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${options.apiUrl ?? testStack().apiUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Options of one HTTP call to the local cart API. */
export type ApiOptions = NonNullable<Parameters<typeof api>[2]>;

/** One answer a retried call saw; status 0 is no answer at all (`code` then names the network error). */
export interface RetriedAnswer {
  readonly status: number;
  readonly ms: number;
  readonly code?: string;
  readonly retryAfter?: string | null;
  readonly response: ApiResponse<any>;
}

/**
 * The retry loop of a careful client (docs/api.md), for tests and the reliability loads alike: the call is sent again,
 * with the same headers (so the same Idempotency-Key), after Retry-After (1 s without one) while the answer is
 * - a 503 (the event store did not answer within the API's budget: a loaded machine, chaos's stalls),
 * - a 409 IDEMPOTENT_REQUEST_IN_PROGRESS: the first attempt still runs, or its lock write was applied and the answer
 *   lost (chaos's ambiguous-write: the SDK's retry then finds the lock taken, by the same request, until it expires),
 * - no answer at all (the connection reset under load: the command may or may not have run; the key makes the retry
 *   safe either way).
 * It stops after `attempts` sends or `giveUpAfterMs`, whichever comes first, and then returns the last answer (status 0
 * for none) with `gaveUp`, the answers it saw in the order first seen.
 */
export async function sendRetried(
  method: string,
  path: string,
  options: ApiOptions & { attempts?: number; giveUpAfterMs?: number; onAnswer?: (answer: RetriedAnswer) => void },
): Promise<{ response: ApiResponse<any>; gaveUp?: string }> {
  const { attempts = Infinity, giveUpAfterMs = Infinity, onAnswer, ...request } = options;
  const firstSent = Date.now();
  const seen: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    let response: ApiResponse<any>;
    try {
      response = await api(method, path, request);
    } catch (error) {
      response = { status: 0, headers: new Headers(), body: { error: { code: networkErrorCode(error) } } };
    }
    const code: string | undefined = response.body?.error?.code;
    onAnswer?.({ status: response.status, ms: Date.now() - started, code, retryAfter: response.headers.get('retry-after'), response });
    seen.push(response.status === 0 ? `no answer (${code})` : `${response.status}${code ? ` ${code}` : ''}`);
    const retry = response.status === 0 || response.status === 503 || (response.status === 409 && code === 'IDEMPOTENT_REQUEST_IN_PROGRESS');
    if (!retry) return { response };
    if (attempt >= attempts || Date.now() - firstSent > giveUpAfterMs) {
      return { response, gaveUp: `${method} ${path} after ${attempt} sends in ${Math.round((Date.now() - firstSent) / 1000)} s: ${summarise(seen)}` };
    }
    await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1_000));
  }
}

/**
 * fetch rejects with a TypeError whose cause says what the socket did (ECONNRESET, UND_ERR_SOCKET, ...). Its name, not
 * `instanceof`: under jest, fetch's TypeError comes from Node's realm, not the test file's, and `instanceof` is false.
 */
function networkErrorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error)?.name !== 'TypeError' || !cause) throw error;
  return cause.code ?? cause.message ?? 'unknown';
}

/** "503 SERVICE_UNAVAILABLE x12, 409 IDEMPOTENT_REQUEST_IN_PROGRESS x3": the answers in the order first seen. */
function summarise(answers: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
  return [...counts].map(([answer, count]) => `${answer} x${count}`).join(', ');
}

/**
 * A write as a careful client sends it (`sendRetried`): with an Idempotency-Key, retried with the same key, so the
 * command is applied at most once whatever the answers were. `key` names the Idempotency-Key, for a test that sends
 * it again itself; `apiUrl` another stack's API; `attempts` (default 20) bounds the sends.
 */
export async function retriedCommand<T = any>(method: string, path: string, body?: unknown, options: { key?: string; headers?: Record<string, string>; attempts?: number; apiUrl?: string } = {}): Promise<ApiResponse<T>> {
  const headers = { ...options.headers, 'idempotency-key': options.key ?? randomUUID() };
  const { response } = await sendRetried(method, path, {
    headers,
    attempts: options.attempts ?? 20,
    ...(body === undefined ? {} : { body }),
    ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}),
  });
  return response;
}
