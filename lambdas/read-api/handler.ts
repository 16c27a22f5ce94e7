import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { json, type HttpResult } from '../http/responses';
import { isDependencyUnavailable, serviceUnavailable, withinDeadline } from '../http/unavailable';
import { logger } from '../observability';
import { readModelsFromEnvironment } from '../projections/wiring';
import { createReadApi } from './api';

const api = createReadApi(readModelsFromEnvironment());

export async function handler(event: APIGatewayProxyEventV2, context: Context): Promise<HttpResult> {
  logger.addContext(context);
  try {
    return await withinDeadline(context.getRemainingTimeInMillis(), api(event), () => serviceUnavailable('the read models').toResult());
  } catch (error) {
    if (isDependencyUnavailable(error)) {
      logger.warn('read models unavailable', { error: error as Error, routeKey: event.routeKey });
      return serviceUnavailable('the read models').toResult();
    }
    logger.error('unhandled error', { error: error as Error, routeKey: event.routeKey });
    return json(500, { error: { code: 'INTERNAL_ERROR', message: 'internal error; the request may be retried' } });
  }
}
