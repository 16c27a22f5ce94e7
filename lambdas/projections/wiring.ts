import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { dynamoDbClient, dynamoDbDocumentClient, HTTP_HANDLER_DYNAMODB_BUDGET, type DynamoDbBudget } from '../../adapters/aws-clients';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { DynamoDbGenerationPointer } from '../../adapters/dynamodb/generation-pointer';
import { generationalReadModels, generationTables, perGeneration, type ProjectionTableNames } from '../../adapters/dynamodb/read-models';
import { CachedGenerationPointer, GenerationalProjections } from '../../application/generations';
import { CartProjections, PROJECTION_NAMES } from '../../application/projections';
import type { ReadModels } from '../../application/read-models';
import { ENV, requireEnv } from '../environment';
import { tracer } from '../observability';

let projections: GenerationalProjections | undefined;
let readModels: ReadModels | undefined;

function documentsClient(budget?: DynamoDbBudget): DynamoDBDocumentClient {
  return dynamoDbDocumentClient(tracer.captureAWSv3Client(dynamoDbClient(budget)));
}

export function projectionTableNames(): ProjectionTableNames {
  return { cartSummary: requireEnv(ENV.cartSummaryTable), itemPopularity: requireEnv(ENV.itemPopularityTable) };
}

export function generationPointer(documents: DynamoDBDocumentClient): DynamoDbGenerationPointer {
  return new DynamoDbGenerationPointer(documents, requireEnv(ENV.cartSummaryTable));
}

export function generationalProjections(documents: DynamoDBDocumentClient): GenerationalProjections {
  const eventStore = new DynamoDbEventStore(documents, requireEnv(ENV.eventStoreTable));
  const of = perGeneration((generation) => {
    const { cartSummary, itemPopularity } = generationTables(documents, projectionTableNames(), generation);
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
    readModels = generationalReadModels(documentsClient(HTTP_HANDLER_DYNAMODB_BUDGET), projectionTableNames());
  }
  return readModels;
}
