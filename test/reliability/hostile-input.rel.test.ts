import { ScanCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { dynamoDbClient } from '../../adapters/aws-clients';
import { api, testStack } from '../support/local-stack';
import { hostileRequest } from './support/hostile-requests';
import { sendRaw, type RawRequest, type RawResponse } from './support/raw-http';
import { reliabilityProfile } from './support/profile';
import { recordOutcome } from './support/summary';

const REQUESTS = reliabilityProfile().hostileRequests;
const CONCURRENCY = 8;

async function countStoredEvents(): Promise<number> {
  const client = dynamoDbClient();
  let count = 0;
  let startKey: Record<string, never> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: testStack().resources.eventStoreTable, Select: 'COUNT', ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey as typeof startKey;
  } while (startKey);
  return count;
}

function isJsonError(response: RawResponse): boolean {
  try {
    const body = JSON.parse(response.text) as { error?: { code?: unknown; message?: unknown } };
    return typeof body.error?.code === 'string' && typeof body.error?.message === 'string' && /application\/json/.test(response.contentType);
  } catch {
    return false;
  }
}

describe('hostile input', () => {
  it(`answers ${REQUESTS} malformed or oversized requests with 4xx JSON errors only, and writes nothing`, async () => {
    const opened = await api('POST', '/carts');
    const cartId: string = opened.body.cartId;
    await api('POST', `/carts/${cartId}/items`, { body: { sku: 'SKU-1', quantity: 2 } });
    const before = await api('GET', `/carts/${cartId}`);
    const eventsBefore = await countStoredEvents();

    const requests = fc.sample(hostileRequest(cartId), { numRuns: REQUESTS, seed: Number(process.env.RELIABILITY_SEED ?? 20261127) });
    const port = testStack().ports.api;
    const offenders: { request: RawRequest; response: RawResponse }[] = [];
    const statuses = new Map<number, number>();
    for (let i = 0; i < requests.length; i += CONCURRENCY) {
      const slice = requests.slice(i, i + CONCURRENCY);
      const responses = await Promise.all(slice.map((request) => sendRaw(port, request)));
      responses.forEach((response, j) => {
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status < 400 || response.status >= 500 || !isJsonError(response)) offenders.push({ request: slice[j]!, response });
      });
    }

    const after = await api('GET', `/carts/${cartId}`);
    const eventsAfter = await countStoredEvents();
    const health = await api('GET', '/health');
    recordOutcome({
      scenario: 'hostile input',
      operations: requests.length,
      faultsInjected: requests.length,
      eventsLost: 0,
      duplicatesInProjections: 0,
      note: `statuses ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}x${n}`).join(' ')}; events written ${eventsAfter - eventsBefore}`,
    });

    expect(offenders.slice(0, 12).map(({ request, response }) => ({ ...request, body: String(request.body ?? '').slice(0, 120), status: response.status, text: response.text.slice(0, 200) }))).toEqual([]);
    expect(eventsAfter).toBe(eventsBefore);
    expect(after.body).toEqual(before.body);
    expect(health.status).toBe(200);
  });
});
