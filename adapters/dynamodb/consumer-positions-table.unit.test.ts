import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbPositionStore } from './consumer-positions-table';

type Item = Record<string, { S?: string; N?: string }>;

/**
 * The SDK's real client, retries included, over a request handler that plays a one-table DynamoDB: PutItem with
 * the adapter's condition, GetItem. `loseNextPutAnswer` applies the next PutItem and answers it 500, as DynamoDB
 * documents a write may be (the SDK then retries it).
 */
function fakeDynamoDb() {
  const items = new Map<string, Item>();
  const state = { loseNextPutAnswer: false, puts: 0 };
  const answer = (statusCode: number, body: unknown) => ({
    response: { statusCode, headers: { 'content-type': 'application/x-amz-json-1.0' }, body: Buffer.from(JSON.stringify(body)) },
  });
  const requestHandler = {
    handle: async (request: { headers: Record<string, string>; body: Uint8Array | string }) => {
      const target = request.headers['x-amz-target']!.split('.')[1];
      const input = JSON.parse(typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body));
      if (target === 'GetItem') {
        const item = items.get(input.Key.positionKey.S);
        return answer(200, item ? { Item: item } : {});
      }
      state.puts++;
      const key = input.Item.positionKey.S as string;
      const stored = items.get(key);
      const from = input.ExpressionAttributeValues[':from'].N;
      if (stored ? stored.version!.N !== from : from !== '0') {
        return answer(400, { __type: 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException', message: 'The conditional request failed' });
      }
      items.set(key, input.Item);
      if (state.loseNextPutAnswer) {
        state.loseNextPutAnswer = false;
        return answer(500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'answer lost' });
      }
      return answer(200, {});
    },
    updateHttpClientConfig: () => {},
    httpHandlerConfigs: () => ({}),
  };
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 3, requestHandler });
  return { documents: DynamoDBDocumentClient.from(client), state, items };
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
