import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { z } from 'zod';
import {
  ConcurrencyRetriesExhausted,
  executeCartCommand,
  ExpectedVersionMismatch,
  loadCart,
  uuidFromText,
  type RecentCarts,
} from '../../application/cart-commands';
import { VersionConflict, type EventStore } from '../../application/event-store';
import { CartRuleViolation, ordinaryCartIdFrom, probeCartIdFrom, Quantity, Sku, type CartCommand } from '../../domain/cart';
import { expectedVersionFrom, header, parseJsonBody, parseWith, refuseOversizedBody } from '../http/requests';
import { HttpError, json, type HttpResult } from '../http/responses';

export interface CartApiDependencies {
  readonly store: EventStore;
  readonly newCartId: () => string;
  /** The carts this process wrote last: a command on one of them skips reading it (see executeCartCommand). */
  readonly recentCarts?: RecentCarts;
}

/** Cart ids are UUIDs that POST /carts hands out: any other id names no cart (404), whatever its shape. */
const CartId = z.uuid();
/** `{"probe": true}` opens a probe cart (domain/cart/probe-carts.ts): `cdc-cart verify` and the canary ask for one. */
const EmptyBody = z.strictObject({});
const OpenCartBody = z.strictObject({ probe: z.literal(true).optional() });
const AddItemBody = z.strictObject({ sku: Sku, quantity: Quantity.default(1) });
const RemoveQuery = z.strictObject({
  quantity: z
    .string()
    .regex(/^\d{1,4}$/, { error: 'quantity must be a whole number from 1 to 1000' })
    .transform(Number)
    .pipe(Quantity)
    .optional(),
});

/** Maps each route of the cart API to a command or a read. Everything here answers in JSON. */
export function createCartApi(deps: CartApiDependencies): (event: APIGatewayProxyEventV2) => Promise<HttpResult> {
  return async (event) => {
    try {
      return await route(deps, event);
    } catch (error) {
      return toErrorResult(error);
    }
  };
}

async function route(deps: CartApiDependencies, event: APIGatewayProxyEventV2): Promise<HttpResult> {
  // Every route refuses an oversized body (413), whether it reads the body or not.
  refuseOversizedBody(event);
  switch (event.routeKey) {
    case 'POST /carts': {
      const body = parseJsonBody(event, OpenCartBody, { optional: true });
      // A keyed POST /carts names its cart after the key, so that its retry finds the cart it opened.
      const commandId = commandIdOf(event);
      const uuid = commandId === undefined ? deps.newCartId() : uuidFromText(`${commandId}#cart`);
      const cartId = body.probe ? probeCartIdFrom(uuid) : ordinaryCartIdFrom(uuid);
      const { version } = await executeCartCommand(deps.store, cartId, { type: 'OpenCart' }, { ...recentCartsOf(deps), ...(commandId === undefined ? {} : { commandId }) });
      return json(201, { cartId, version }, { location: `/carts/${cartId}`, etag: etag(version) });
    }
    case 'GET /carts/{cartId}': {
      const cartId = cartIdOf(event);
      const cart = await loadCart(deps.store, cartId);
      if (cart.state.status === 'NONE') throw cartNotFound(cartId);
      return json(
        200,
        { cartId, status: cart.state.status, items: cart.state.items, version: cart.version },
        { etag: etag(cart.version) },
      );
    }
    case 'POST /carts/{cartId}/items': {
      const cartId = cartIdOf(event);
      const body = parseJsonBody(event, AddItemBody);
      return command(deps, event, cartId, { type: 'AddItem', sku: body.sku, quantity: body.quantity });
    }
    case 'DELETE /carts/{cartId}/items/{sku}': {
      const cartId = cartIdOf(event);
      const sku = parseWith(z.object({ sku: Sku }), { sku: event.pathParameters?.sku }).sku;
      const { quantity } = parseWith(RemoveQuery, event.queryStringParameters ?? {});
      parseJsonBody(event, EmptyBody, { optional: true });
      return command(deps, event, cartId, quantity === undefined ? { type: 'RemoveItem', sku } : { type: 'RemoveItem', sku, quantity });
    }
    case 'POST /carts/{cartId}/close': {
      const cartId = cartIdOf(event);
      parseJsonBody(event, EmptyBody, { optional: true });
      return command(deps, event, cartId, { type: 'CloseCart' });
    }
    default:
      throw new HttpError(404, 'ROUTE_NOT_FOUND', `no route for ${event.requestContext?.http?.method ?? ''} ${event.rawPath ?? ''}`.trim());
  }
}

async function command(deps: CartApiDependencies, event: APIGatewayProxyEventV2, cartId: string, cartCommand: CartCommand): Promise<HttpResult> {
  const expectedVersion = expectedVersionFrom(event);
  const commandId = commandIdOf(event);
  const { version } = await executeCartCommand(deps.store, cartId, cartCommand, {
    ...recentCartsOf(deps),
    ...(expectedVersion === undefined ? {} : { expectedVersion }),
    ...(commandId === undefined ? {} : { commandId }),
  });
  return json(200, { cartId, version }, { etag: etag(version) });
}

function recentCartsOf(deps: CartApiDependencies): { recentCarts?: RecentCarts } {
  return deps.recentCarts ? { recentCarts: deps.recentCarts } : {};
}

/**
 * A write with an Idempotency-Key is one command however often it is sent: the key with everything the idempotency
 * layer compares (method, path, body, query string) names it. Its events carry ids derived from this, so a retry
 * after a timed-out write that was applied anyway is recognised in the store and not applied twice.
 */
function commandIdOf(event: APIGatewayProxyEventV2): string | undefined {
  const key = header(event, 'idempotency-key');
  if (key === undefined) return undefined;
  return JSON.stringify([key, event.requestContext?.http?.method, event.rawPath, event.body ?? '', event.rawQueryString ?? '']);
}

function cartIdOf(event: APIGatewayProxyEventV2): string {
  const cartId = event.pathParameters?.cartId ?? '';
  if (!CartId.safeParse(cartId).success) throw cartNotFound(cartId);
  return cartId;
}

function etag(version: number): string {
  return `"${version}"`;
}

function cartNotFound(cartId: string): HttpError {
  return new HttpError(404, 'CART_NOT_FOUND', `cart ${JSON.stringify(cartId.slice(0, 100))} does not exist`);
}

const RULE_STATUS: Record<CartRuleViolation['rule'], number> = {
  CART_NOT_FOUND: 404,
  CART_ALREADY_EXISTS: 409,
  CART_CLOSED: 409,
  ITEM_NOT_IN_CART: 409,
  NOT_ENOUGH_QUANTITY: 409,
};

export function toErrorResult(error: unknown): HttpResult {
  if (error instanceof HttpError) return error.toResult();
  if (error instanceof CartRuleViolation) return new HttpError(RULE_STATUS[error.rule], error.rule, error.message).toResult();
  if (error instanceof ExpectedVersionMismatch) return new HttpError(412, 'VERSION_MISMATCH', error.message).toResult();
  if (error instanceof VersionConflict) return new HttpError(409, 'CART_ALREADY_EXISTS', 'the cart already exists').toResult();
  if (error instanceof ConcurrencyRetriesExhausted) return new HttpError(409, 'CONCURRENT_MODIFICATION', error.message).toResult();
  throw error;
}
