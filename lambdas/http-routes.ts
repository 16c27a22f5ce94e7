import type { LambdaName } from './registry';

/**
 * The HTTP API's routes and the Lambda behind each, defined once: CDK creates these routes on API Gateway
 * (infra/constructs/cart-http-api.ts), the local server dispatches with the same table, and each API's handler
 * table is typed by its keys (RouteKeyOf), so a route without a handler, or a handler without a route, fails the
 * type check. `$default` catches everything else so unknown routes get the API's own JSON 404 instead of API
 * Gateway's.
 */
export const ROUTE_LAMBDAS = {
  'POST /carts': 'cartApi',
  'GET /carts/{cartId}': 'cartApi',
  'POST /carts/{cartId}/items': 'cartApi',
  'PUT /carts/{cartId}/items/{sku}': 'cartApi',
  'DELETE /carts/{cartId}/items/{sku}': 'cartApi',
  'POST /carts/{cartId}/close': 'cartApi',
  'GET /read/carts/{cartId}': 'readApi',
  'GET /read/items/top': 'readApi',
  $default: 'cartApi',
} as const satisfies Record<string, LambdaName>;

export type RouteKey = keyof typeof ROUTE_LAMBDAS;

/** The routes a Lambda serves, without `$default` (which a handler answers with its 404). */
export type RouteKeyOf<L extends LambdaName> = Exclude<{ [K in RouteKey]: (typeof ROUTE_LAMBDAS)[K] extends L ? K : never }[RouteKey], '$default'>;

export const HTTP_ROUTES: readonly { routeKey: RouteKey; lambda: LambdaName }[] = (Object.keys(ROUTE_LAMBDAS) as RouteKey[]).map((routeKey) => ({
  routeKey,
  lambda: ROUTE_LAMBDAS[routeKey],
}));

/** The handler of one route key, or undefined for a key that is not one of `routes` (`$default`, anything else). */
export function routeHandler<K extends string, H>(routes: Record<K, H>, routeKey: string | undefined): H | undefined {
  return routeKey !== undefined && Object.hasOwn(routes, routeKey) ? routes[routeKey as K] : undefined;
}
