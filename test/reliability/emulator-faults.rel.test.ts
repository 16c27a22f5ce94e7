import { randomUUID } from 'node:crypto';
import { dynamoDbDocumentClient } from '../../adapters/aws-clients';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { DEADLINE_MARGIN_MS } from '../../lambdas/http/unavailable';
import { api, testStack } from '../support/local-stack';
import { auditOutcome, awaitConvergence, expectDownstreamPromises } from './support/pipeline-audit';
import { runCartLoad } from './support/load';
import { freeze } from './support/processes';
import { reliabilityProfile } from './support/profile';
import { retryingClient } from './support/retrying-client';
import { recordOutcome } from './support/summary';

const OUTAGE_MS = 10_000;

describe('emulator faults', () => {
  it.each([
    ['kinesis', 'Kinesis unavailable'],
    ['s3', 'S3 unavailable'],
  ] as const)('%s frozen for 10 s under load: the API keeps accepting commands and all converges', async (emulator, scenario) => {
    const outage = freeze(emulator, OUTAGE_MS);
    const load = await runCartLoad({ carts: reliabilityProfile().outageCarts, concurrency: 4, tag: emulator.toUpperCase() });
    await outage;
    const health = await api('GET', '/health');
    const audit = await awaitConvergence(load.cartIds, 180_000);

    recordOutcome({
      scenario,
      operations: load.commands,
      faultsInjected: 1,
      ...auditOutcome(audit),
      note: `outage ${OUTAGE_MS / 1000} s; health after: ${health.status}`,
    });
    expect(load.failures).toEqual([]);
    expectDownstreamPromises(audit);
  });

  it('dynamodb frozen for 10 s under load: the APIs answer 503 with Retry-After in time, never 500 or a hang, and a retried command is applied once', async () => {
    const { send, log } = retryingClient();
    // Freeze once the load runs at full speed, with commands at every step (idempotency record, read, append):
    // the writes caught in the frozen process are applied after the API gave up on them, and a retry must not
    // apply them twice.
    let warm!: () => void;
    const loadIsWarm = new Promise<void>((resolve) => (warm = resolve));
    const load = runCartLoad({ carts: reliabilityProfile().outageCarts, concurrency: 12, tag: 'DDB', send, onProgress: (done) => done >= 2 && warm() });
    await loadIsWarm;
    let frozen = true;
    const outage = freeze('dynamodb-java', OUTAGE_MS).finally(() => (frozen = false));
    const reads: { path: string; status: number; ms: number; retryAfter: string | null; code?: string }[] = [];
    const reader = (async () => {
      while (frozen) {
        for (const path of ['/read/items/top', `/carts/${randomUUID()}`]) {
          const started = Date.now();
          const response = await api('GET', path);
          reads.push({ path, status: response.status, ms: Date.now() - started, retryAfter: response.headers.get('retry-after'), code: response.body?.error?.code });
        }
      }
    })();
    const [result] = await Promise.all([load, outage, reader]);
    const audit = await awaitConvergence(result.cartIds, 180_000);
    const appliedTwice = await commandsAppliedTwice(result.cartIds);

    const answers = [...log.answers, ...reads];
    const unavailable = answers.filter((a) => a.status === 503).length;
    const slowest = Math.max(...answers.map((a) => a.ms));
    recordOutcome({
      scenario: 'DynamoDB unavailable',
      operations: result.commands,
      faultsInjected: 1,
      ...auditOutcome(audit),
      note: `outage ${OUTAGE_MS / 1000} s; ${unavailable} answers 503 with Retry-After, slowest answer ${(slowest / 1000).toFixed(1)} s; commands applied twice ${appliedTwice.length}`,
    });
    expect(log.contractBreaches).toEqual([]);
    expect(log.gaveUp).toEqual([]);
    expect(reads.filter((r) => ![200, 404].includes(r.status) && !(r.status === 503 && r.code === 'SERVICE_UNAVAILABLE' && r.retryAfter))).toEqual([]);
    // The outage was felt (the SDK gave up within its budget instead of waiting the outage out)...
    expect(unavailable).toBeGreaterThan(0);
    // ...and no answer waited for the Lambda's timeout.
    expect(slowest).toBeLessThan(30_000 - DEADLINE_MARGIN_MS);
    expect(result.failures).toEqual([]);
    expect(appliedTwice).toEqual([]);
    expectDownstreamPromises(audit);
  });
});

/** Carts whose stored history holds a command more than once: runCartLoad gives each cart one open, 3 distinct adds, one removal, at most one close. */
async function commandsAppliedTwice(cartIds: readonly string[]): Promise<string[]> {
  const store = new DynamoDbEventStore(dynamoDbDocumentClient(), testStack().resources.eventStoreTable);
  const twice: string[] = [];
  for (const cartId of cartIds) {
    const { events } = await store.readStream(cartId);
    const count = (type: string) => events.filter((e) => e.type === type).length;
    const addedSkus = new Set(events.filter((e) => e.type === 'ItemAdded').map((e) => String(e.data.sku)));
    if (count('CartOpened') !== 1 || count('ItemAdded') !== 3 || addedSkus.size !== 3 || count('ItemRemoved') !== 1 || count('CartClosed') > 1) {
      twice.push(`${cartId}: ${events.map((e) => `${e.type}${e.data.sku ? `(${String(e.data.sku)})` : ''}`).join(', ')}`);
    }
  }
  return twice;
}
