import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDbClient, dynamoDbDocumentClient, HTTP_HANDLER_DYNAMODB_BUDGET, type DynamoDbBudget } from '../../adapters/aws-clients';
import { DynamoDbCartSummaryTable } from '../../adapters/dynamodb/cart-summary-table';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { DynamoDbGenerationPointer } from '../../adapters/dynamodb/generation-pointer';
import { DynamoDbItemPopularityTable } from '../../adapters/dynamodb/item-popularity-table';
import { DynamoDbReadModels } from '../../adapters/dynamodb/read-models';
import { CachedGenerationPointer, GenerationalProjections, GenerationalReadModels } from '../../application/generations';
import { CartProjections, PROJECTION_NAMES } from '../../application/projections';
import type { ReadModels } from '../../application/read-models';
import { generationKeyPrefix } from '../../domain/projections';
import { ENV, requireEnv } from '../environment';
import { tracer } from '../observability';

let projections: GenerationalProjections | undefined;
let readModels: ReadModels | undefined;

function documentsClient(budget?: DynamoDbBudget): DynamoDBDocumentClient {
  return dynamoDbDocumentClient(tracer.captureAWSv3Client(dynamoDbClient(budget)));
}

/** Both projection tables of one generation (its rows under the generation's key prefix). */
export function generationTables(documents: DynamoDBDocumentClient, generation: number) {
  const prefix = generationKeyPrefix(generation);
  return {
    cartSummary: new DynamoDbCartSummaryTable(documents, requireEnv(ENV.cartSummaryTable), undefined, prefix),
    itemPopularity: new DynamoDbItemPopularityTable(documents, requireEnv(ENV.itemPopularityTable), prefix),
  };
}

export function generationPointer(documents: DynamoDBDocumentClient): DynamoDbGenerationPointer {
  return new DynamoDbGenerationPointer(documents, requireEnv(ENV.cartSummaryTable));
}

/** One CartProjections per generation, made on first use (each keeps its own cursor cache, only a guess). */
function perGeneration<T>(make: (generation: number) => T): (generation: number) => T {
  const made = new Map<number, T>();
  return (generation) => {
    if (!made.has(generation)) made.set(generation, make(generation));
    return made.get(generation)!;
  };
}

export function generationalProjections(documents: DynamoDBDocumentClient): GenerationalProjections {
  const eventStore = new DynamoDbEventStore(documents, requireEnv(ENV.eventStoreTable));
  const of = perGeneration((generation) => {
    const { cartSummary, itemPopularity } = generationTables(documents, generation);
    return new CartProjections([cartSummary, itemPopularity], eventStore);
  });
  return new GenerationalProjections(new CachedGenerationPointer(generationPointer(documents)), of, PROJECTION_NAMES);
}

/**
 * The projections as the projections consumer uses them: both tables in every generation the pointer has it
 * write, and the event store to catch gaps up from. One instance per process.
 */
export function projectionsFromEnvironment(): GenerationalProjections {
  projections ??= generationalProjections(documentsClient());
  return projections;
}

/** The projection tables as the read API reads them (it needs neither the event store nor write access). */
export function readModelsFromEnvironment(): ReadModels {
  if (!readModels) {
    // The read API answers HTTP: it gives up on DynamoDB within the HTTP handlers' budget.
    const documents = documentsClient(HTTP_HANDLER_DYNAMODB_BUDGET);
    const of = perGeneration((generation) => {
      const { cartSummary, itemPopularity } = generationTables(documents, generation);
      return new DynamoDbReadModels(cartSummary, itemPopularity);
    });
    readModels = new GenerationalReadModels(new CachedGenerationPointer(generationPointer(documents)), of);
  }
  return readModels;
}
