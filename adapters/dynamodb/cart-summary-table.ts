import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import type { CartRun, ProjectionTable } from '../../application/projections';
import type { CartLine } from '../../domain/cart';
import { advanceCursor, EMPTY_CURSOR, generationKeyPrefix, linesOf, toCartSummary, type CartCursor, type CartSummary, type VersionedCartEvent } from '../../domain/projections';
import { deleteGenerationItems, scanGenerations } from './delete-all';
import { consistentBatchGet, inParallel, PACK_CONCURRENCY, packEntries, transactPacked, type TransactItem } from './packed-writes';
import { CART_SUMMARY_KEY } from './projection-tables';

/** The cart-summary projection in DynamoDB: one item per cart, replaced by a Put conditional on its version. */
export class DynamoDbCartSummaryTable implements ProjectionTable {
  readonly name = 'cart-summary' as const;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly clock: () => Date = () => new Date(),
    /** The generation's key prefix (domain/projections/generations.ts); '' for generation 0. */
    private readonly keyPrefix = '',
  ) {}

  private key(cartId: string) {
    return { [CART_SUMMARY_KEY.partitionKey]: this.keyPrefix + cartId };
  }

  async readCursor(cartId: string): Promise<CartCursor> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(cartId), ConsistentRead: true }),
    );
    return Item ? cursorOf(Item) : EMPTY_CURSOR;
  }

  async readCursors(cartIds: readonly string[]): Promise<Map<string, CartCursor>> {
    const items = await consistentBatchGet(this.documents, this.tableName, CART_SUMMARY_KEY.partitionKey, cartIds.map((id) => this.keyPrefix + id));
    return new Map([...items].map(([key, item]) => [key.slice(this.keyPrefix.length), cursorOf(item)]));
  }

  /** The whole run in one Put: the item is the summary after the run, written only over the version it follows. */
  async applyRun(cartId: string, from: CartCursor, run: readonly VersionedCartEvent[]): Promise<{ applied: number }> {
    if (run.length === 0) return { applied: 0 };
    try {
      await this.documents.send(new PutCommand(this.conditionalPut({ cartId, from, run })));
      return { applied: run.length };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { applied: 0 };
      throw error;
    }
  }

  /**
   * Many carts' runs, their conditional Puts packed into transactions of up to 100 (one request per 100 carts
   * instead of one per cart; on AWS a transactional write costs 2 WCU instead of 1). A cart whose condition fails
   * gets applied 0, as with applyRun; the others of its pack are written without it.
   */
  async applyRuns(runs: readonly CartRun[]): Promise<{ applied: number }[]> {
    const applied = new Map<CartRun, number>();
    const entries = runs.filter((run) => run.run.length > 0);
    const packs = packEntries(entries, () => 1, (entry) => 200 + 60 * (linesOf(entry.from.state).length + entry.run.length));
    await inParallel(packs, PACK_CONCURRENCY, async (pack) => {
      const { written } = await transactPacked(this.documents, pack, (pending) => pending.map((entry): TransactItem => ({ Put: this.conditionalPut(entry) })));
      for (const entry of written) applied.set(entry, entry.run.length);
    });
    return runs.map((run) => ({ applied: applied.get(run) ?? 0 }));
  }

  private conditionalPut({ cartId, from, run }: CartRun): PutCommandInput {
    const summary = toCartSummary(cartId, advanceCursor(from, run));
    if (!summary) throw new RangeError(`cart ${cartId}: events ${run[0]!.version}..${run.at(-1)!.version} leave no cart to summarise`);
    return {
      TableName: this.tableName,
      Item: { ...summary, ...this.key(cartId), items: [...summary.items], updatedAt: this.clock().toISOString() },
      ConditionExpression: from.version === 0 ? 'attribute_not_exists(#id)' : '#version = :from',
      ExpressionAttributeNames: from.version === 0 ? { '#id': CART_SUMMARY_KEY.partitionKey } : { '#version': 'version' },
      ...(from.version === 0 ? {} : { ExpressionAttributeValues: { ':from': from.version } }),
    };
  }

  async reset(): Promise<{ deleted: number }> {
    return { deleted: await deleteGenerationItems(this.documents, this.tableName, CART_SUMMARY_KEY.partitionKey, this.keyPrefix) };
  }

  async summary(cartId: string): Promise<CartSummary | undefined> {
    const { Item } = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: this.key(cartId) }));
    return Item ? { ...summaryOf(Item), cartId } : undefined;
  }
}

/**
 * Every cart of each of the given generations with its version, from ONE parallel Scan of the table (the
 * generations share it): what a rebuild must catch up to, and how far the new generation already is.
 */
export async function cartVersionsByGeneration(documents: DynamoDBDocumentClient, tableName: string, generations: readonly number[]): Promise<Map<number, Map<string, number>>> {
  const key = CART_SUMMARY_KEY.partitionKey;
  const scanned = await scanGenerations(documents, tableName, key, generations.map(generationKeyPrefix), ['version']);
  return new Map(
    generations.map((generation) => {
      const prefix = generationKeyPrefix(generation);
      return [generation, new Map((scanned.get(prefix) ?? []).map((item) => [String(item[key]).slice(prefix.length), Number(item.version)]))];
    }),
  );
}

function summaryOf(item: Record<string, unknown>): CartSummary {
  return {
    cartId: String(item.cartId),
    status: item.status === 'CLOSED' ? 'CLOSED' : 'OPEN',
    items: ((item.items ?? []) as CartLine[]).map((line) => ({
      sku: String(line.sku),
      quantity: Number(line.quantity),
      // Lines of carts imported from the seed carry the seed's item name.
      ...(typeof line.name === 'string' ? { name: line.name } : {}),
    })),
    totalQuantity: Number(item.totalQuantity),
    version: Number(item.version),
  };
}

function cursorOf(item: Record<string, unknown>): CartCursor {
  const summary = summaryOf(item);
  return { version: summary.version, state: { status: summary.status, items: summary.items } };
}
