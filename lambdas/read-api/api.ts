import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import { TOP_ITEMS_DEFAULT_LIMIT, TOP_ITEMS_MAX_LIMIT, type ReadModels } from '../../application/read-models';
import { parseWith } from '../http/requests';
import { HttpError, json, type HttpResult } from '../http/responses';
import { routeHandler, type RouteKeyOf } from '../http-routes';

const CartId = z.uuid({ error: 'cartId must be a UUID' });
const TopQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,3}$/, { error: `limit must be a whole number from 1 to ${TOP_ITEMS_MAX_LIMIT}` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(1, { error: `limit must be at least 1` })
        .max(TOP_ITEMS_MAX_LIMIT, { error: `limit must be at most ${TOP_ITEMS_MAX_LIMIT}` }),
    )
    .optional(),
});

type RouteHandler = (readModels: ReadModels, event: APIGatewayProxyEventV2) => Promise<HttpResult>;

/** One handler per route of lambdas/http-routes.ts that this Lambda serves: the compiler checks both ways. */
const ROUTES: Record<RouteKeyOf<'readApi'>, RouteHandler> = {
  'GET /read/carts/{cartId}': async (readModels, event) => {
    const { cartId } = parseWith(z.object({ cartId: CartId }), { cartId: event.pathParameters?.cartId });
    const summary = await readModels.cartSummary(cartId);
    if (!summary) throw new HttpError(404, 'CART_NOT_FOUND', `cart ${cartId} is not in the read model (it does not exist, or is not projected yet)`);
    const { status, items, totalQuantity, version } = summary;
    return json(200, { cartId, status, items, totalQuantity, version }, { etag: `"${version}"` });
  },
  'GET /read/items/top': async (readModels, event) => {
    const { limit = TOP_ITEMS_DEFAULT_LIMIT } = parseWith(TopQuery, event.queryStringParameters ?? {});
    const items = await readModels.topItems(limit);
    return json(200, { limit, items });
  },
};

/**
 * The read side: answers from the projections, which follow the event store within seconds. A cart that is
 * not projected yet is a 404, like a cart that does not exist: the read model cannot tell the two apart.
 */
export function createReadApi(readModels: ReadModels): (event: APIGatewayProxyEventV2) => Promise<HttpResult> {
  return async (event) => {
    try {
      const handler = routeHandler(ROUTES, event.routeKey);
      if (!handler) throw new HttpError(404, 'ROUTE_NOT_FOUND', `no route for ${event.requestContext?.http?.method ?? ''} ${event.rawPath ?? ''}`.trim());
      return await handler(readModels, event);
    } catch (error) {
      if (error instanceof HttpError) return error.toResult();
      throw error;
    }
  };
}
