import { dynamoDbClient, dynamoDbDocumentClient, HTTP_HANDLER_DYNAMODB_BUDGET, type DynamoDbBudget } from '../../adapters/aws-clients';
import { DynamoDbCartSummaryTable } from '../../adapters/dynamodb/cart-summary-table';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { DynamoDbItemPopularityTable } from '../../adapters/dynamodb/item-popularity-table';
import { DynamoDbReadModels } from '../../adapters/dynamodb/read-models';
import { CartProjections } from '../../application/projections';
import type { ReadModels } from '../../application/read-models';
import { ENV, requireEnv } from '../environment';
import { tracer } from '../observability';

let projections: CartProjections | undefined;
let readModels: ReadModels | undefined;

function tables(budget?: DynamoDbBudget) {
  const documents = dynamoDbDocumentClient(tracer.captureAWSv3Client(dynamoDbClient(budget)));
  return {
    documents,
    cartSummary: new DynamoDbCartSummaryTable(documents, requireEnv(ENV.cartSummaryTable)),
    itemPopularity: new DynamoDbItemPopularityTable(documents, requireEnv(ENV.itemPopularityTable)),
  };
}

/**
 * The projections as the projections consumer and the replay use them: both tables, and the event store to
 * catch gaps up from. One instance per process (its cursor cache is only a guess, so sharing it is safe).
 */
export function projectionsFromEnvironment(): CartProjections {
  if (!projections) {
    const { documents, cartSummary, itemPopularity } = tables();
    projections = new CartProjections([cartSummary, itemPopularity], new DynamoDbEventStore(documents, requireEnv(ENV.eventStoreTable)));
  }
  return projections;
}

/** The projection tables as the read API reads them (it needs neither the event store nor write access). */
export function readModelsFromEnvironment(): ReadModels {
  if (!readModels) {
    // The read API answers HTTP: it gives up on DynamoDB within the HTTP handlers' budget.
    const { cartSummary, itemPopularity } = tables(HTTP_HANDLER_DYNAMODB_BUDGET);
    readModels = new DynamoDbReadModels(cartSummary, itemPopularity);
  }
  return readModels;
}
