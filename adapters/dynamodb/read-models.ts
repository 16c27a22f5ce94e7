import type { ReadModels } from '../../application/read-models';
import type { CartSummary, ItemPopularity } from '../../domain/projections';
import type { DynamoDbCartSummaryTable } from './cart-summary-table';
import type { DynamoDbItemPopularityTable } from './item-popularity-table';

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
