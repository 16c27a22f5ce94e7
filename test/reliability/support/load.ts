import { retryingClient, type Send } from './retrying-client';

export interface LoadResult {
  readonly cartIds: string[];
  readonly commands: number;
  /** Commands answered with anything but their success status: must stay empty while faults are injected. */
  readonly failures: string[];
}

/**
 * A steady stream of cart commands: `carts` carts, each opened, given a few items, one removal, half of them
 * closed, `concurrency` carts at a time. Returns once every command has been answered.
 */
export async function runCartLoad(options: { carts: number; concurrency: number; tag: string; onProgress?: (done: number) => void; send?: Send }): Promise<LoadResult> {
  // A 503 with Retry-After is a defined answer (chaos's stalls and lost write answers make some): such a client
  // retries it with the same Idempotency-Key. What it could not get done, or a broken contract, is a failure.
  const own = options.send ? undefined : retryingClient();
  const send: Send = options.send ?? own!.send;
  const cartIds: string[] = [];
  const failures: string[] = [];
  let commands = 0;
  let next = 0;
  const expect = (what: string, status: number, wanted: number, body: unknown) => {
    commands++;
    if (status !== wanted) failures.push(`${what}: ${status} ${JSON.stringify(body)}`);
  };
  const worker = async () => {
    while (next < options.carts) {
      const index = next++;
      const opened = await send('POST', '/carts');
      expect('open', opened.status, 201, opened.body);
      if (opened.status !== 201) continue;
      const cartId: string = opened.body.cartId;
      cartIds.push(cartId);
      for (let i = 0; i < 3; i++) {
        const added = await send('POST', `/carts/${cartId}/items`, { body: { sku: `${options.tag}-${(index + i) % 11}`, quantity: 1 + i } });
        expect('add', added.status, 200, added.body);
      }
      const removed = await send('DELETE', `/carts/${cartId}/items/${options.tag}-${index % 11}?quantity=1`);
      expect('remove', removed.status, 200, removed.body);
      if (index % 2 === 0) {
        const closed = await send('POST', `/carts/${cartId}/close`);
        expect('close', closed.status, 200, closed.body);
      }
      options.onProgress?.(index + 1);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  if (own) failures.push(...own.log.contractBreaches, ...own.log.gaveUp.map((call) => `gave up: ${call}`));
  return { cartIds, commands, failures };
}
