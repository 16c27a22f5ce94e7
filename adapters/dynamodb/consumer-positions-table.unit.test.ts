import { scriptedDynamoDb } from '../../test/support/scripted-dynamodb';
import { DynamoDbPositionStore } from './consumer-positions-table';

type Item = Record<string, { S?: string; N?: string }>;

/**
 * The SDK's real client, retries included, playing a one-table DynamoDB: PutItem with the adapter's condition,
 * GetItem. `loseNextPutAnswer` applies the next PutItem and answers it 500, as DynamoDB documents a write may be
 * (the SDK then retries it).
 */
function fakeDynamoDb() {
  const items = new Map<string, Item>();
  const state = { loseNextPutAnswer: false, puts: 0 };
  const documents = scriptedDynamoDb((operation, input) => {
    if (operation === 'GetItem') {
      const item = items.get(input.Key.positionKey.S);
      return { ok: item ? { Item: item } : {} };
    }
    state.puts++;
    const key = input.Item.positionKey.S as string;
    const stored = items.get(key);
    const from = input.ExpressionAttributeValues[':from'].N;
    if (stored ? stored.version!.N !== from : from !== '0') return { error: 'ConditionalCheckFailedException' };
    items.set(key, input.Item);
    if (state.loseNextPutAnswer) {
      state.loseNextPutAnswer = false;
      return { error: 'InternalServerError', status: 500 };
    }
    return { ok: {} };
  });
  return { documents, state, items };
}

describe('DynamoDbPositionStore.advance', () => {
  it('answers true when its write was applied, its answer lost and the SDK retry failed its condition', async () => {
    const { documents, state } = fakeDynamoDb();
    const positions = new DynamoDbPositionStore(documents, 'positions', 'event-log');
    state.loseNextPutAnswer = true;
    expect(await positions.advance('cart', 0, 3)).toBe(true);
    expect(state.puts).toBe(2); // the first attempt (applied, 500) and the SDK's retry (condition failed)
    expect(await positions.read(['cart'])).toEqual(new Map([['cart', 3]]));
    state.loseNextPutAnswer = true;
    expect(await positions.advance('cart', 3, 5)).toBe(true);
  });

  it('answers false when another writer had moved the position, even to the same version', async () => {
    const { documents } = fakeDynamoDb();
    const mine = new DynamoDbPositionStore(documents, 'positions', 'event-log');
    const other = new DynamoDbPositionStore(documents, 'positions', 'event-log');
    expect(await other.advance('cart', 0, 3)).toBe(true);
    expect(await mine.advance('cart', 0, 3)).toBe(false);
    expect(await mine.advance('cart', 2, 4)).toBe(false);
  });
});
