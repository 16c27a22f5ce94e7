/**
 * Probe carts: the carts `cdc-cart verify` and the canary open to prove the pipeline end to end. They travel
 * every hop like any cart (event store, stream, Kinesis, consumers, archive), but their id starts with this
 * reserved prefix, so business read models (top items) can leave them out. POST /carts hands out such an id
 * only when asked for a probe (`{"probe": true}`), and never to an ordinary cart. See docs/cli.md#verify.
 */
export const PROBE_CART_ID_PREFIX = '00000000-';

export function isProbeCartId(cartId: string): boolean {
  return cartId.startsWith(PROBE_CART_ID_PREFIX);
}

/** The probe form of a (UUID) cart id: its first group replaced by the reserved one. */
export function probeCartIdFrom(uuid: string): string {
  return PROBE_CART_ID_PREFIX + uuid.slice(PROBE_CART_ID_PREFIX.length);
}

/** An ordinary cart's id that happens to fall in the reserved range (one in 2^32) is moved out of it. */
export function ordinaryCartIdFrom(uuid: string): string {
  return isProbeCartId(uuid) ? `1${uuid.slice(1)}` : uuid;
}
