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

/**
 * A write as a careful client sends it (docs/api.md): with an Idempotency-Key, and again with the same key after
 * Retry-After when the API answers 503 (the event store did not answer within the API's budget: a loaded machine,
 * chaos's stalls), or 409 IDEMPOTENT_REQUEST_IN_PROGRESS while that first attempt still runs, or after the lock
 * write of the first attempt was applied and its answer lost (chaos's ambiguous-write: the SDK's retry then finds
 * the lock taken, by the same request, until it expires), so the command is applied at most once whatever the
 * answers were. `key` names the Idempotency-Key, for a test that sends it again itself; `apiUrl` another stack's API.
 */
export async function retriedCommand<T = any>(method: string, path: string, body?: unknown, options: { key?: string; headers?: Record<string, string>; attempts?: number; apiUrl?: string } = {}): Promise<ApiResponse<T>> {
  const headers = { ...options.headers, 'idempotency-key': options.key ?? randomUUID() };
  const attempts = options.attempts ?? 20;
  for (let attempt = 1; ; attempt++) {
    const response = await api<T>(method, path, { headers, ...(body === undefined ? {} : { body }), ...(options.apiUrl ? { apiUrl: options.apiUrl } : {}) });
    // 409 IDEMPOTENT_REQUEST_IN_PROGRESS: the first attempt, answered 503 at the deadline, is still running.
    const inProgress = response.status === 409 && (response.body as { error?: { code?: string } })?.error?.code === 'IDEMPOTENT_REQUEST_IN_PROGRESS';
    if ((response.status !== 503 && !inProgress) || attempt === attempts) return response;
    await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000));
  }
}
