import { IdempotencyItemAlreadyExistsError, IdempotencyItemNotFoundError } from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, type IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { HttpError, json, type HttpResult } from '../http/responses';
import { idempotentCartApi, isFinalAnswer } from './idempotent-api';

/** Powertools' persistence contract in memory (the DynamoDB layer's put fails on a live record too). */
class InMemoryIdempotencyStore extends BasePersistenceLayer {
  readonly records = new Map<string, IdempotencyRecord>();
  protected async _getRecord(key: string): Promise<IdempotencyRecord> {
    const record = this.records.get(key);
    if (!record) throw new IdempotencyItemNotFoundError();
    return record;
  }
  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const existing = this.records.get(record.idempotencyKey);
    if (existing && !existing.isExpired()) throw new IdempotencyItemAlreadyExistsError('exists', existing);
    this.records.set(record.idempotencyKey, record);
  }
  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.records.set(record.idempotencyKey, record);
  }
  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    this.records.delete(record.idempotencyKey);
  }
}

const context = { getRemainingTimeInMillis: () => 30_000, functionName: 'cart-api', awsRequestId: 'r' } as unknown as Context;
const request = (key: string): APIGatewayProxyEventV2 =>
  ({
    headers: { 'idempotency-key': key },
    requestContext: { http: { method: 'POST' } },
    rawPath: '/carts/c1/items',
    rawQueryString: '',
    body: '{"sku":"PEN-1"}',
  }) as unknown as APIGatewayProxyEventV2;

/** An API that answers from a script, and counts the calls that reached it. */
function scripted(...answers: HttpResult[]) {
  const state = { calls: 0 };
  const api = async () => answers[Math.min(state.calls++, answers.length - 1)]!;
  return { api, state };
}

const ok = json(200, { cartId: 'c1', version: 2 });
const concurrent = new HttpError(409, 'CONCURRENT_MODIFICATION', 'the cart kept changing').toResult();

describe('the cart API behind Powertools idempotency', () => {
  it('does not store a 409 CONCURRENT_MODIFICATION: the retry with the same key runs again and can succeed', async () => {
    const { api, state } = scripted(concurrent, ok);
    const idempotent = idempotentCartApi(api, new InMemoryIdempotencyStore());
    expect(await idempotent(request('k1'), context)).toEqual(concurrent);
    expect(await idempotent(request('k1'), context)).toEqual(ok);
    expect(await idempotent(request('k1'), context)).toEqual(ok); // now stored: not run again
    expect(state.calls).toBe(2);
  });

  it('stores final answers, refusals included: a retry gets the first answer back without running the command', async () => {
    const closed = new HttpError(409, 'CART_CLOSED', 'the cart is closed').toResult();
    const mismatch = new HttpError(412, 'VERSION_MISMATCH', 'the cart is at version 3').toResult();
    for (const first of [ok, closed, mismatch, new HttpError(400, 'INVALID_BODY', 'sku is missing').toResult()]) {
      const { api, state } = scripted(first, ok);
      const idempotent = idempotentCartApi(api, new InMemoryIdempotencyStore());
      expect(await idempotent(request('k2'), context)).toEqual(first);
      expect(await idempotent(request('k2'), context)).toEqual(first);
      expect(state.calls).toBe(1);
    }
  });

  it('does not store a 5xx answer', async () => {
    const unavailable = new HttpError(503, 'SERVICE_UNAVAILABLE', 'retry').toResult();
    const { api } = scripted(unavailable, ok);
    const idempotent = idempotentCartApi(api, new InMemoryIdempotencyStore());
    expect(await idempotent(request('k3'), context)).toEqual(unavailable);
    expect(await idempotent(request('k3'), context)).toEqual(ok);
  });

  it('isFinalAnswer: 2xx and 4xx are final except CONCURRENT_MODIFICATION; 5xx never', () => {
    expect([ok, concurrent, json(503, {}), json(404, { error: { code: 'CART_NOT_FOUND' } }), json(413, 'not json')].map(isFinalAnswer)).toEqual([true, false, false, true, true]);
  });
});
