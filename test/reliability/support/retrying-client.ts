import { randomUUID } from 'node:crypto';
import { sendRetried, type ApiOptions, type ApiResponse } from '../../support/local-stack';

/** How a load sends a request (./load.ts): by default as docs/api.md asks a client to, with `retryingClient`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Send = (method: string, path: string, options?: ApiOptions) => Promise<ApiResponse<any>>;

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
 * A client as docs/api.md asks clients to behave: every write carries an Idempotency-Key, and `sendRetried` sends a
 * call again after a 503, a 409 IDEMPOTENT_REQUEST_IN_PROGRESS or no answer, for up to GIVE_UP_AFTER_MS. The log
 * keeps every answer, the ones that break the 503 contract, and the calls it gave up on.
 */
export function retryingClient(): { send: Send; log: RetryLog } {
  const log: RetryLog = { answers: [], contractBreaches: [], gaveUp: [] };
  const send: Send = async (method, path, options = {}) => {
    const headers = method === 'GET' ? { ...options.headers } : { 'idempotency-key': randomUUID(), ...options.headers };
    const { response, gaveUp } = await sendRetried(method, path, {
      ...options,
      headers,
      giveUpAfterMs: GIVE_UP_AFTER_MS,
      onAnswer: ({ status, ms, code, retryAfter, response: answered }) => {
        log.answers.push(status === 0 ? { status, ms, code } : { status, ms, code, retryAfter });
        if (status >= 500 && !(status === 503 && code === 'SERVICE_UNAVAILABLE' && retryAfter)) {
          log.contractBreaches.push(`${method} ${path}: ${status} ${JSON.stringify(answered.body)} retry-after=${retryAfter}`);
        }
      },
    });
    if (gaveUp) log.gaveUp.push(gaveUp);
    return response;
  };
  return { send, log };
}
