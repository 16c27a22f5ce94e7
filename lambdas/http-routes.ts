import type { LambdaName } from './registry';

/**
 * The HTTP API's routes and the Lambda behind each: CDK creates these routes on API Gateway, and the local
 * server dispatches with the same table. `$default` catches everything else so unknown routes get the API's
 * own JSON 404 instead of API Gateway's.
 */
export const HTTP_ROUTES: readonly { routeKey: string; lambda: LambdaName }[] = [
  { routeKey: 'POST /carts', lambda: 'cartApi' },
  { routeKey: 'GET /carts/{cartId}', lambda: 'cartApi' },
  { routeKey: 'POST /carts/{cartId}/items', lambda: 'cartApi' },
  { routeKey: 'DELETE /carts/{cartId}/items/{sku}', lambda: 'cartApi' },
  { routeKey: 'POST /carts/{cartId}/close', lambda: 'cartApi' },
  { routeKey: 'GET /read/carts/{cartId}', lambda: 'readApi' },
  { routeKey: 'GET /read/items/top', lambda: 'readApi' },
  { routeKey: '$default', lambda: 'cartApi' },
];
