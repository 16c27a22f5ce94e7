import { randomUUID } from 'node:crypto';
import { api, type ApiResponse } from '../../support/local-stack';
import type { Send } from './load';

/** What a retrying client saw: every answer, not only the last of each call. */
export interface RetryLog {
  readonly answers: { status: number; ms: number; code?: string; retryAfter?: string | null }[];
  /** Answers that break the 503 contract: a 500, a 503 without JSON error or Retry-After. */
  readonly contractBreaches: string[];
}

/**
 * A client as docs/api.md asks clients to behave: every write carries an Idempotency-Key, and a 503 (or the 409 of a
 * request still in progress under that key) is retried with the same key after its Retry-After. Gives up after
 * `maxAttempts` answers and returns the last one.
 */
export function retryingClient(maxAttempts = 30): { send: Send; log: RetryLog } {
  const log: RetryLog = { answers: [], contractBreaches: [] };
  const send: Send = async (method, path, options = {}) => {
    const headers = method === 'GET' ? { ...options.headers } : { 'idempotency-key': randomUUID(), ...options.headers };
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    let response: ApiResponse<any> | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const started = Date.now();
      response = await api(method, path, { ...options, headers });
      const code: string | undefined = response.body?.error?.code;
      const retryAfter = response.headers.get('retry-after');
      log.answers.push({ status: response.status, ms: Date.now() - started, code, retryAfter });
      if (response.status >= 500 && !(response.status === 503 && code === 'SERVICE_UNAVAILABLE' && retryAfter)) {
        log.contractBreaches.push(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)} retry-after=${retryAfter}`);
      }
      const retry = response.status === 503 || (response.status === 409 && code === 'IDEMPOTENT_REQUEST_IN_PROGRESS');
      if (!retry) return response;
      await new Promise((resolve) => setTimeout(resolve, Number(retryAfter ?? 1) * 1_000));
    }
    return response!;
  };
  return { send, log };
}
