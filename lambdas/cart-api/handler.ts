import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { dynamoDbClient, dynamoDbDocumentClient, HTTP_HANDLER_DYNAMODB_BUDGET } from '../../adapters/aws-clients';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { RecentCarts } from '../../application/cart-commands';
import { ENV, requireEnv } from '../environment';
import { HttpError, json, type HttpResult } from '../http/responses';
import { isDependencyUnavailable, RETRY_AFTER_SECONDS, serviceUnavailable, withinDeadline } from '../http/unavailable';
import { logger, metrics, publishStoredMetrics, tracer } from '../observability';
import { createCartApi } from './api';
import { idempotentCartApi } from './idempotent-api';

const client = tracer.captureAWSv3Client(dynamoDbClient(HTTP_HANDLER_DYNAMODB_BUDGET));
const api = createCartApi({
  store: new DynamoDbEventStore(dynamoDbDocumentClient(client), requireEnv(ENV.eventStoreTable)),
  newCartId: randomUUID,
  // Per Lambda instance: consecutive commands on a cart that land here skip reading it (one Query less each).
  recentCarts: new RecentCarts(),
});

const idempotentApi = idempotentCartApi(api, new DynamoDBPersistenceLayer({ tableName: requireEnv(ENV.idempotencyTable), awsSdkV3Client: client }));

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<HttpResult> {
  logger.addContext(context);
  const isWrite = event.requestContext?.http?.method !== 'GET';
  try {
    const answer = isWrite ? idempotentApi(withLowercaseHeaders(event), context) : api(event);
    const result = await withinDeadline(context.getRemainingTimeInMillis(), answer, () => {
      logger.warn('no answer before the deadline', { routeKey: event.routeKey });
      return serviceUnavailable('the event store').toResult();
    });
    metrics.addMetric(result.statusCode < 400 ? 'RequestsSucceeded' : result.statusCode < 500 ? 'RequestsRejected' : 'RequestsFailed', MetricUnit.Count, 1);
    return result;
  } catch (error) {
    if (error instanceof IdempotencyAlreadyInProgressError) {
      // Also what a retry after a 503 may meet until the first attempt's record expires (at the Lambda's timeout).
      return new HttpError(409, 'IDEMPOTENT_REQUEST_IN_PROGRESS', 'a request with this Idempotency-Key is still in progress; retry shortly', {
        'retry-after': String(RETRY_AFTER_SECONDS),
      }).toResult();
    }
    if (error instanceof IdempotencyValidationError) {
      return new HttpError(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body').toResult();
    }
    metrics.addMetric('RequestsFailed', MetricUnit.Count, 1);
    if (isDependencyUnavailable(error)) {
      logger.warn('event store unavailable', { error: error as Error, routeKey: event.routeKey });
      return serviceUnavailable('the event store').toResult();
    }
    logger.error('unhandled error', { error: error as Error, routeKey: event.routeKey });
    return json(500, { error: { code: 'INTERNAL_ERROR', message: 'internal error; the request may be retried' } });
  } finally {
    publishStoredMetrics();
  }
}

/** API Gateway lowercases header names in payload v2; a local caller may not have. The key lookup relies on it. */
function withLowercaseHeaders(event: APIGatewayProxyEventV2): APIGatewayProxyEventV2 {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  return { ...event, headers };
}
