import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CachedGenerationPointer, GenerationalReadModels } from '../../application/generations';
import type { ReadModels } from '../../application/read-models';
import { generationKeyPrefix, type CartSummary, type ItemPopularity } from '../../domain/projections';
import { DynamoDbCartSummaryTable } from './cart-summary-table';
import { DynamoDbGenerationPointer } from './generation-pointer';
import { DynamoDbItemPopularityTable } from './item-popularity-table';

/** The read API's view of the projection tables (eventually consistent reads: they are read models). */
export class DynamoDbReadModels implements ReadModels {
  constructor(
    private readonly cartSummaries: DynamoDbCartSummaryTable,
    private readonly itemPopularity: DynamoDbItemPopularityTable,
  ) {}

  cartSummary(cartId: string): Promise<CartSummary | undefined> {
    return this.cartSummaries.summary(cartId);
  }

  topItems(limit: number): Promise<ItemPopularity[]> {
    return this.itemPopularity.topItems(limit);
  }
}

/** One instance per generation, made on first use. */
export function perGeneration<T>(make: (generation: number) => T): (generation: number) => T {
  const made = new Map<number, T>();
  return (generation) => {
    if (!made.has(generation)) made.set(generation, make(generation));
    return made.get(generation)!;
  };
}

/** Both projection tables of one generation (its rows under the generation's key prefix). */
export function generationTables(documents: DynamoDBDocumentClient, tables: ProjectionTableNames, generation: number) {
  const prefix = generationKeyPrefix(generation);
  return {
    cartSummary: new DynamoDbCartSummaryTable(documents, tables.cartSummary, undefined, prefix),
    itemPopularity: new DynamoDbItemPopularityTable(documents, tables.itemPopularity, prefix),
  };
}

export interface ProjectionTableNames {
  readonly cartSummary: string;
  readonly itemPopularity: string;
}

/** The read models across generations, as the read API, the console and the CLI read them (the pointer decides). */
export function generationalReadModels(documents: DynamoDBDocumentClient, tables: ProjectionTableNames): ReadModels {
  const of = perGeneration((generation) => {
    const { cartSummary, itemPopularity } = generationTables(documents, tables, generation);
    return new DynamoDbReadModels(cartSummary, itemPopularity);
  });
  return new GenerationalReadModels(new CachedGenerationPointer(new DynamoDbGenerationPointer(documents, tables.cartSummary)), of);
}
