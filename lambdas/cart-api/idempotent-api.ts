import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import type { HttpResult } from '../http/responses';

/**
 * Error codes of answers that are NOT final for their request: the same request retried later may well succeed
 * (the cart stopped changing), so they must not be stored for its Idempotency-Key. A 5xx is never final either.
 */
export const NOT_FINAL_ERROR_CODES: ReadonlySet<string> = new Set(['CONCURRENT_MODIFICATION']);

/**
 * True for an answer that a retry of the same request must get back: a 2xx, a rule refusal (CART_CLOSED, ...), a
 * 412 for the If-Match the request stated, a 4xx for its input. False for a transient one (5xx, a
 * CONCURRENT_MODIFICATION after the command's own retries).
 */
export function isFinalAnswer(result: HttpResult): boolean {
  if (result.statusCode >= 500) return false;
  if (result.statusCode < 400) return true;
  return !NOT_FINAL_ERROR_CODES.has(errorCodeOf(result) ?? '');
}

function errorCodeOf(result: HttpResult): string | undefined {
  try {
    return (JSON.parse(result.body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** Carries a non-final answer through Powertools, which deletes the key's record when the function throws. */
class NotFinalAnswer extends Error {
  constructor(readonly result: HttpResult) {
    super(`not stored: ${result.statusCode}`);
  }
}

/**
 * The API behind Powertools idempotency: a repeated write with the same Idempotency-Key (and method and path) gets
 * the first FINAL response back and appends nothing; the same key with another body is refused. Requests without
 * the header are not recorded. Powertools stores whatever the function returns and deletes the record when it
 * throws (IdempotencyHandler.getFunctionResult), so a non-final answer is thrown through it and answered here.
 */
export function idempotentCartApi(
  api: (event: APIGatewayProxyEventV2) => Promise<HttpResult>,
  persistenceStore: BasePersistenceLayer,
): (event: APIGatewayProxyEventV2, context: Context) => Promise<HttpResult> {
  const idempotent = makeIdempotent(
    async (event: APIGatewayProxyEventV2, _context: Context) => {
      const result = await api(event);
      if (!isFinalAnswer(result)) throw new NotFinalAnswer(result);
      return result;
    },
    {
      persistenceStore,
      config: new IdempotencyConfig({
        eventKeyJmesPath: 'headers."idempotency-key" && [headers."idempotency-key", requestContext.http.method, rawPath]',
        // An array, never null: a request without a body (POST /carts, DELETE) must still hash. The query string
        // counts too: DELETE ?quantity=1 and ?quantity=2 under one key are different requests.
        payloadValidationJmesPath: '[body, rawQueryString]',
        expiresAfterSeconds: 24 * 60 * 60,
      }),
    },
  );
  return (event, context) =>
    idempotent(event, context).catch((error: unknown) => {
      if (error instanceof NotFinalAnswer) return error.result;
      throw error;
    });
}
