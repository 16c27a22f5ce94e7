import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { PositionStore } from '../../application/claiming-consumer';

/** The consumer-positions table: one item per (consumer, cart), the last version that consumer handled. */
export const CONSUMER_POSITIONS_KEY = { partitionKey: 'positionKey' } as const;

/**
 * One consumer's positions in the shared consumer-positions table (key `<consumer>#<cartId>`).
 *
 * A position write is a conditional Put that the SDK retries. DynamoDB documents that a request answered with a
 * 5xx or timed out may have been applied (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html:
 * "...the request might have succeeded"), so a retry can fail its condition on the write's own first attempt. Each
 * write therefore carries a fresh `writeToken`; when the write fails its condition or fails outright, a strongly
 * consistent read tells "our write is there" (position `to` with our token: moved by us) from another writer's.
 */
export class DynamoDbPositionStore implements PositionStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly consumer: string,
  ) {}

  async read(cartIds: readonly string[]): Promise<Map<string, number>> {
    const found = await Promise.all(
      cartIds.map(async (cartId) => {
        const item = await this.stored(cartId);
        return [cartId, item ? Number(item.version) : undefined] as const;
      }),
    );
    return new Map(found.filter((entry): entry is readonly [string, number] => entry[1] !== undefined));
  }

  async advance(cartId: string, from: number, to: number): Promise<boolean> {
    const writeToken = randomUUID();
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(cartId), version: to, writeToken, consumer: this.consumer, cartId, updatedAt: new Date().toISOString() },
          ConditionExpression: from === 0 ? 'attribute_not_exists(#key) OR version = :from' : 'version = :from',
          ExpressionAttributeNames: from === 0 ? { '#key': CONSUMER_POSITIONS_KEY.partitionKey } : undefined,
          ExpressionAttributeValues: { ':from': from },
        }),
      );
      return true;
    } catch (error) {
      const conditionFailed = error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException';
      let ours: boolean;
      try {
        const item = await this.stored(cartId);
        ours = item?.writeToken === writeToken && Number(item.version) === to;
      } catch {
        throw error; // cannot tell: the caller fails the run, and its redelivery finds out
      }
      if (ours) return true; // applied, answer lost
      if (conditionFailed) return false;
      // Not there (yet): the write may still land later; either way the run's effect was performed before it
      // (claimingConsumer), so failing here only makes a redelivery perform it again or drop it as done.
      throw error;
    }
  }

  private async stored(cartId: string): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: this.key(cartId), ConsistentRead: true }));
    return Item;
  }

  private key(cartId: string): Record<string, string> {
    return { [CONSUMER_POSITIONS_KEY.partitionKey]: `${this.consumer}#${cartId}` };
  }
}
