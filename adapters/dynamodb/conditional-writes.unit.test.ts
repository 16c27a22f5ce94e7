import { VersionConflict } from '../../application/event-store';
import type { EventEnvelope } from '../../domain/events';
import { EMPTY_CURSOR } from '../../domain/projections';
import { scriptedDynamoDb } from '../../test/support/scripted-dynamodb';
import { DynamoDbEventStore } from './event-store';
import { DynamoDbItemPopularityTable } from './item-popularity-table';

/** How the adapters read DynamoDB's refusals, over the SDK's real client and error classes. */

const envelope = (version: number): EventEnvelope => ({
  eventId: `e-${version}`,
  aggregateType: 'Cart',
  aggregateId: 'cart',
  version,
  type: 'ItemAdded',
  schemaVersion: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data: { sku: 'A', quantity: 1 },
});

const cancelled = (...codes: string[]) => ({ error: 'TransactionCanceledException', fields: { CancellationReasons: codes.map((Code) => ({ Code })) } });

describe('DynamoDbEventStore.appendToStream', () => {
  it('turns a failed condition into VersionConflict: a single Put, and a transaction cancelled for a condition', async () => {
    const single = new DynamoDbEventStore(scriptedDynamoDb(() => ({ error: 'ConditionalCheckFailedException' })), 'events');
    await expect(single.appendToStream('cart', 0, [envelope(1)])).rejects.toBeInstanceOf(VersionConflict);
    const many = new DynamoDbEventStore(scriptedDynamoDb(() => cancelled('None', 'ConditionalCheckFailed')), 'events');
    await expect(many.appendToStream('cart', 0, [envelope(1), envelope(2)])).rejects.toEqual(new VersionConflict('cart', 0));
  });

  it('lets other refusals through as they are (not a conflict: the caller must not re-read and retry them as one)', async () => {
    const throttled = new DynamoDbEventStore(scriptedDynamoDb(() => cancelled('ThrottlingError', 'None'), 1), 'events');
    await expect(throttled.appendToStream('cart', 0, [envelope(1), envelope(2)])).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    const invalid = new DynamoDbEventStore(scriptedDynamoDb(() => ({ error: 'ValidationException' })), 'events');
    await expect(invalid.appendToStream('cart', 0, [envelope(1)])).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('DynamoDbItemPopularityTable.applyRun', () => {
  const added = { version: 1, eventId: 'e-1', event: { type: 'CartOpened', data: {} } } as const;

  it('a cursor condition that fails applies nothing (another writer moved the cart; the caller re-reads)', async () => {
    const calls: string[] = [];
    const table = new DynamoDbItemPopularityTable(
      scriptedDynamoDb((operation) => {
        calls.push(operation);
        // The stored cursor moved past the run's start: version 1, nothing pending.
        return operation === 'TransactWriteItems' ? cancelled('ConditionalCheckFailed') : { ok: { Item: { pk: { S: 'x' }, version: { N: '1' } } } };
      }),
      'item-popularity',
    );
    expect(await table.applyRun('cart', EMPTY_CURSOR, [added])).toEqual({ applied: 0 });
    expect(calls).toEqual(['TransactWriteItems', 'GetItem']);
  });

  it('retries a transaction conflict on a shared sku row, then applies', async () => {
    let attempts = 0;
    const table = new DynamoDbItemPopularityTable(
      scriptedDynamoDb(() => (++attempts === 1 ? cancelled('None', 'TransactionConflict') : { ok: {} })),
      'item-popularity',
    );
    expect(await table.applyRun('cart', EMPTY_CURSOR, [added])).toEqual({ applied: 1 });
    expect(attempts).toBe(2);
  });
});
