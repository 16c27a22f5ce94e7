import { api } from '../support/local-stack';
import { auditOutcome, awaitConvergence, expectDownstreamPromises } from './support/pipeline-audit';
import { reliabilityProfile } from './support/profile';
import { retryingClient } from './support/retrying-client';
import { recordOutcome } from './support/summary';

const { clients: CLIENTS, addsPerClient: ADDS_PER_CLIENT, parallelCarts: PARALLEL_CARTS } = reliabilityProfile();

/** Responses the API defines for a contended write; anything else (a 5xx above all) is a defect. */
const DEFINED_REFUSALS = new Set([409, 412]);

describe('concurrency', () => {
  it(`${CLIENTS} clients x ${ADDS_PER_CLIENT} adds on one cart, and ${PARALLEL_CARTS} carts in parallel, lose nothing`, async () => {
    const hot: string = (await api('POST', '/carts')).body.cartId;
    const succeededOnHot = new Map<string, number>();
    const unexpected: string[] = [];
    // Clients as docs/api.md asks them to behave: a 503 (DynamoDB Local saturated by this very load does answer
    // slower than the API's budget) is retried after its Retry-After with the same Idempotency-Key.
    const { send, log } = retryingClient();

    const client = async (clientIndex: number) => {
      for (let i = 0; i < ADDS_PER_CLIENT; i++) {
        const sku = `C${clientIndex}-${i}`;
        const response = await send('POST', `/carts/${hot}/items`, { body: { sku, quantity: 1 } });
        if (response.status === 200) succeededOnHot.set(sku, 1);
        else if (!DEFINED_REFUSALS.has(response.status) || !response.body?.error?.code) unexpected.push(`${response.status} ${JSON.stringify(response.body)}`);
      }
    };

    const cartRun = async (index: number) => {
      const opened = await send('POST', '/carts');
      if (opened.status !== 201) {
        unexpected.push(`open ${opened.status} ${opened.body?.error?.code ?? ''}`);
        return undefined;
      }
      const cartId: string = opened.body.cartId;
      for (const [sku, quantity] of [[`P${index}`, 2], [`Q${index % 7}`, 1]] as const) {
        const added = await send('POST', `/carts/${cartId}/items`, { body: { sku, quantity } });
        if (added.status !== 200) unexpected.push(`add ${added.status} ${added.body?.error?.code ?? ''}`);
      }
      const removed = await send('DELETE', `/carts/${cartId}/items/P${index}?quantity=1`);
      if (removed.status !== 200) unexpected.push(`remove ${removed.status} ${removed.body?.error?.code ?? ''}`);
      if (index % 2 === 0) {
        const closed = await send('POST', `/carts/${cartId}/close`);
        if (closed.status !== 200) unexpected.push(`close ${closed.status} ${closed.body?.error?.code ?? ''}`);
      }
      return cartId;
    };

    const [, carts] = await Promise.all([
      Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i))),
      Promise.all(Array.from({ length: PARALLEL_CARTS }, (_, i) => cartRun(i))),
    ]);

    const hotCart = await api('GET', `/carts/${hot}`);
    const hotSkus = new Set((hotCart.body.items as { sku: string }[]).map((line) => line.sku));
    const cartIds = [hot, ...carts.filter((id): id is string => id !== undefined)];
    const audit = await awaitConvergence(cartIds, 120_000);

    const operations = CLIENTS * ADDS_PER_CLIENT + PARALLEL_CARTS * 5;
    recordOutcome({
      scenario: 'concurrency',
      operations,
      faultsInjected: 0,
      ...auditOutcome(audit),
      note: `hot cart ${succeededOnHot.size}/${CLIENTS * ADDS_PER_CLIENT} adds accepted; ${audit.storedEvents} events; ${log.answers.filter((a) => a.status === 503).length} answers 503 retried; ${log.answers.filter((a) => a.status === 0).length} calls without an answer (connection reset) retried`,
    });

    expect(log.contractBreaches).toEqual([]);
    expect(log.gaveUp).toEqual([]);
    expect(unexpected).toEqual([]);
    expect(hotSkus).toEqual(new Set(succeededOnHot.keys()));
    expect(hotCart.body.version).toBe(1 + succeededOnHot.size);
    expectDownstreamPromises(audit);
  });
});
