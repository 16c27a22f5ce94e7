import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PositionStore } from '../../application/claiming-consumer';

/** The consumer-positions table: one item per (consumer, cart), the last version that consumer handled. */
export const CONSUMER_POSITIONS_KEY = { partitionKey: 'positionKey' } as const;

/** One consumer's positions in the shared consumer-positions table (key `<consumer>#<cartId>`). */
export class DynamoDbPositionStore implements PositionStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly consumer: string,
  ) {}

  async read(cartIds: readonly string[]): Promise<Map<string, number>> {
    const found = await Promise.all(
      cartIds.map(async (cartId) => {
        const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: this.key(cartId), ConsistentRead: true }));
        return [cartId, Item ? Number(Item.version) : undefined] as const;
      }),
    );
    return new Map(found.filter((entry): entry is readonly [string, number] => entry[1] !== undefined));
  }

  async advance(cartId: string, from: number, to: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(cartId), version: to, consumer: this.consumer, cartId, updatedAt: new Date().toISOString() },
          ConditionExpression: from === 0 ? 'attribute_not_exists(#key) OR version = :from' : 'version = :from',
          ExpressionAttributeNames: from === 0 ? { '#key': CONSUMER_POSITIONS_KEY.partitionKey } : undefined,
          ExpressionAttributeValues: { ':from': from },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  private key(cartId: string): Record<string, string> {
    return { [CONSUMER_POSITIONS_KEY.partitionKey]: `${this.consumer}#${cartId}` };
  }
}
