import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { GenerationPointerStore } from '../../application/generations';
import { INITIAL_POINTER, type GenerationPointer } from '../../domain/projections';
import { CART_SUMMARY_KEY, GENERATION_POINTER_KEY } from './projection-tables';

/**
 * The generation pointer as one item of the cart-summary table (so no table is added and every role that reads
 * or writes the projections already may read or write it). Changed only by a Put conditional on its revision.
 */
export class DynamoDbGenerationPointer implements GenerationPointerStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(): Promise<GenerationPointer> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { [CART_SUMMARY_KEY.partitionKey]: GENERATION_POINTER_KEY }, ConsistentRead: true }),
    );
    if (!Item) return INITIAL_POINTER;
    return {
      revision: Number(Item.revision),
      projections: (Item.projections ?? {}) as GenerationPointer['projections'],
      ...(Item.highestGeneration === undefined ? {} : { highestGeneration: Number(Item.highestGeneration) }),
    };
  }

  async write(next: GenerationPointer, expectedRevision: number): Promise<boolean> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            [CART_SUMMARY_KEY.partitionKey]: GENERATION_POINTER_KEY,
            revision: next.revision,
            projections: next.projections,
            ...(next.highestGeneration === undefined ? {} : { highestGeneration: next.highestGeneration }),
          },
          ConditionExpression: expectedRevision === 0 ? 'attribute_not_exists(revision)' : 'revision = :expected',
          ...(expectedRevision === 0 ? {} : { ExpressionAttributeValues: { ':expected': expectedRevision } }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
