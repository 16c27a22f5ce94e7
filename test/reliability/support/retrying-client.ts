import { randomUUID } from 'node:crypto';
import { api, type ApiResponse } from '../../support/local-stack';

/** How a load sends a request (./load.ts): by default as docs/api.md asks a client to, with `retryingClient`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Send = (method: string, path: string, options?: Parameters<typeof api>[2]) => Promise<ApiResponse<any>>;

/** What a retrying client saw: every answer, not only the last of each call. */
export interface RetryLog {
  /** Status 0: no answer at all (the connection was reset or refused); `code` is the network error's. */
  readonly answers: { status: number; ms: number; code?: string; retryAfter?: string | null }[];
  /** Answers that break the 503 contract: a 500, a 503 without JSON error or Retry-After. */
  readonly contractBreaches: string[];
  /** Calls still unanswered (503, 409 in progress, no connection) when the client's budget ran out, with their answers. */
  readonly gaveUp: string[];
}

/** How long a client keeps retrying one call: far beyond the API's own budget (8.2 s) and Powertools' 30 s lock. */
const GIVE_UP_AFTER_MS = 300_000;

/**
 * A client as docs/api.md asks clients to behave: every write carries an Idempotency-Key, and a 503 (or the 409 of a
 * request still in progress under that key) is retried with the same key after its Retry-After; so is a call that
 * got no answer at all (the connection reset under load: the command may or may not have run, and the key makes the
 * retry safe either way). Gives up after GIVE_UP_AFTER_MS and returns the last answer (status 0 for none).
 */
export function retryingClient(): { send: Send; log: RetryLog } {
  const log: RetryLog = { answers: [], contractBreaches: [], gaveUp: [] };
  const send: Send = async (method, path, options = {}) => {
    const headers = method === 'GET' ? { ...options.headers } : { 'idempotency-key': randomUUID(), ...options.headers };
    const firstSent = Date.now();
    const seen: string[] = [];
    for (;;) {
      const started = Date.now();
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      let response: ApiResponse<any>;
      try {
        response = await api(method, path, { ...options, headers });
      } catch (error) {
        const code = networkErrorCode(error);
        log.answers.push({ status: 0, ms: Date.now() - started, code });
        seen.push(`no answer (${code})`);
        response = { status: 0, headers: new Headers(), body: { error: { code } } };
      }
      if (response.status !== 0) {
        const code: string | undefined = response.body?.error?.code;
        const retryAfter = response.headers.get('retry-after');
        log.answers.push({ status: response.status, ms: Date.now() - started, code, retryAfter });
        seen.push(`${response.status}${code ? ` ${code}` : ''}`);
        if (response.status >= 500 && !(response.status === 503 && code === 'SERVICE_UNAVAILABLE' && retryAfter)) {
          log.contractBreaches.push(`${method} ${path}: ${response.status} ${JSON.stringify(response.body)} retry-after=${retryAfter}`);
        }
      }
      const code: string | undefined = response.body?.error?.code;
      const retry = response.status === 0 || response.status === 503 || (response.status === 409 && code === 'IDEMPOTENT_REQUEST_IN_PROGRESS');
      if (!retry) return response;
      if (Date.now() - firstSent > GIVE_UP_AFTER_MS) {
        log.gaveUp.push(`${method} ${path} after ${Math.round((Date.now() - firstSent) / 1000)} s: ${summarise(seen)}`);
        return response;
      }
      await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1_000));
    }
  };
  return { send, log };
}

/** fetch rejects with a TypeError whose cause says what the socket did (ECONNRESET, UND_ERR_SOCKET, ...). */
function networkErrorCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (!(error instanceof TypeError) || !cause) throw error;
  return cause.code ?? cause.message ?? 'unknown';
}

/** "503 SERVICE_UNAVAILABLE x12, 409 IDEMPOTENT_REQUEST_IN_PROGRESS x3": the answers in the order first seen. */
function summarise(answers: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const answer of answers) counts.set(answer, (counts.get(answer) ?? 0) + 1);
  return [...counts].map(([answer, count]) => `${answer} x${count}`).join(', ');
}
