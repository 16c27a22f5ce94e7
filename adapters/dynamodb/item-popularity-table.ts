import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CartRun, ProjectionTable } from '../../application/projections';
import type { CartLine } from '../../domain/cart';
import {
  advanceCursor,
  EMPTY_CURSOR,
  linesOf,
  businessDeltas,
  popularityDeltas,
  rankItems,
  type CartCursor,
  type ItemPopularity,
  type SkuDelta,
  type VersionedCartEvent,
} from '../../domain/projections';
import { deleteGenerationItems } from './delete-all';
import { consistentBatchGet, inParallel, PACK_CONCURRENCY, packEntries, transactPacked, type TransactItem } from './packed-writes';
import { cartCursorKey, ITEM_POPULARITY_KEY, ITEM_POPULARITY_RANKING, skuRowKey } from './projection-tables';

/** DynamoDB takes 100 items per transaction: the cart's cursor and up to 99 sku rows. */
const MAX_SKUS_PER_STEP = 99;
const MAX_CONTENTION_RETRIES = 12;

interface StoredCursor extends CartCursor {
  readonly pendingVersion?: number;
  readonly pendingChunks?: number;
}

/**
 * The item-popularity projection in DynamoDB. Sku counters are shared by every cart, so "skip what was applied"
 * needs the cart's own cursor: each step is ONE transaction that moves the cart's cursor conditionally (from
 * the version it was computed on) AND adds the step's deltas to the sku rows. A duplicate or a retry finds the
 * cursor moved and adds nothing. An event that touches more than 99 skus (closing a cart of 100+ lines) is
 * applied in chunks, the cursor recording how many chunks are in; anyone finishing it computes the same chunks.
 */
export class DynamoDbItemPopularityTable implements ProjectionTable {
  readonly name = 'item-popularity' as const;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** The generation's key prefix (domain/projections/generations.ts); '' for generation 0. */
    private readonly keyPrefix = '',
  ) {}

  private cartKey(cartId: string): string {
    return this.keyPrefix + cartCursorKey(cartId);
  }

  private skuKey(sku: string): string {
    return this.keyPrefix + skuRowKey(sku);
  }

  /** Each generation ranks its own sku rows: the ranking index is partitioned by board. */
  private get board(): string {
    return this.keyPrefix + ITEM_POPULARITY_RANKING.board;
  }

  async readCursor(cartId: string): Promise<CartCursor> {
    const stored = await this.readStored(cartId);
    return stored ? { version: stored.version, state: stored.state } : EMPTY_CURSOR;
  }

  async applyRun(cartId: string, from: CartCursor, run: readonly VersionedCartEvent[]): Promise<{ applied: number }> {
    let cursor = from;
    let applied = 0;
    while (applied < run.length) {
      const step = nextStep(cartId, cursor, run.slice(applied));
      const ok =
        step.deltas.length <= MAX_SKUS_PER_STEP
          ? await this.transact(this.stepItems(cartId, cursor, step.after, step.deltas, { kind: 'whole' }))
          : await this.applyInChunks(cartId, cursor, step.after, step.deltas);
      if (ok) {
        cursor = { version: cursor.version + step.events, state: step.after.state };
        applied += step.events;
        continue;
      }
      // A writer that died half-way through a chunked event leaves it pending: finish it, then go on.
      const stored = await this.readStored(cartId);
      if (stored?.version !== cursor.version || stored.pendingVersion !== cursor.version + 1) return { applied };
      const single = nextStep(cartId, cursor, run.slice(applied, applied + 1));
      if (!(await this.applyInChunks(cartId, cursor, single.after, single.deltas))) return { applied };
      cursor = single.after;
      applied += 1;
    }
    return { applied };
  }

  async readCursors(cartIds: readonly string[]): Promise<Map<string, CartCursor>> {
    const items = await consistentBatchGet(this.documents, this.tableName, ITEM_POPULARITY_KEY.partitionKey, cartIds.map((cartId) => this.cartKey(cartId)));
    return new Map(cartIds.flatMap((cartId) => {
      const item = items.get(this.cartKey(cartId));
      if (!item) return [];
      const stored = storedCursorOf(item);
      return [[cartId, { version: stored.version, state: stored.state }] as const];
    }));
  }

  /**
   * Many carts' runs in few transactions: each pack moves up to ~90 carts' cursors conditionally and adds their
   * MERGED deltas to the sku rows they touch (carts adding the same sku share one row update), within 100 items.
   * All or nothing per pack, as one cart's step is: a pack whose transaction lands applies each of its runs
   * exactly once. Carts whose cursor condition fails are taken out of the pack (applied 0: the caller re-reads
   * them), except one whose next event a dead writer left half-applied in chunks, which goes the single-cart way
   * (applyRun finishes it); runs that need several steps or chunks go that way from the start.
   */
  async applyRuns(runs: readonly CartRun[]): Promise<{ applied: number }[]> {
    const applied = new Map<CartRun, number>();
    const packable: PackedStep[] = [];
    const single: CartRun[] = [];
    for (const run of runs) {
      if (run.run.length === 0) continue;
      const step = nextStep(run.cartId, run.from, run.run);
      if (step.events === run.run.length && step.deltas.length <= MAX_SKUS_PER_STEP) packable.push({ run, after: step.after, deltas: step.deltas });
      else single.push(run);
    }
    const refused: CartRun[] = [];
    const packs = packEntries(
      packable,
      (entry, pack) => 1 + entry.deltas.filter((delta) => !pack.some((other) => other.deltas.some((d) => d.sku === delta.sku))).length,
      (entry) => 300 + 60 * linesOf(entry.after.state).length + 200 * entry.deltas.length,
    );
    await inParallel(packs, PACK_CONCURRENCY, async (pack) => {
      const result = await transactPacked(this.documents, pack, (pending) => this.packItems(pending));
      for (const entry of result.written) applied.set(entry.run, entry.run.run.length);
      refused.push(...result.refused.map((entry) => entry.run));
    });
    // A refused cart moved on (a duplicate, a racing writer, a wrong guess: the caller re-reads it), unless a
    // dead writer left its next event half-applied in chunks: only the single-cart way finishes that.
    if (refused.length > 0) {
      const stored = await consistentBatchGet(this.documents, this.tableName, ITEM_POPULARITY_KEY.partitionKey, refused.map((run) => this.cartKey(run.cartId)));
      for (const run of refused) {
        const item = stored.get(this.cartKey(run.cartId));
        const cursor = item ? storedCursorOf(item) : undefined;
        if (cursor?.version === run.from.version && cursor.pendingVersion === run.from.version + 1) single.push(run);
      }
    }
    await inParallel(single, PACK_CONCURRENCY, async (run) => {
      applied.set(run, (await this.applyRun(run.cartId, run.from, run.run)).applied);
    });
    return runs.map((run) => ({ applied: applied.get(run) ?? 0 }));
  }

  /** The pack's cursor moves (entry i at index i, each conditional) followed by its merged sku row updates. */
  private packItems(pack: readonly PackedStep[]): TransactItem[] {
    const merged = new Map<string, SkuDelta>();
    for (const { deltas } of pack) {
      for (const delta of deltas) {
        const sum = merged.get(delta.sku);
        merged.set(delta.sku, sum ? { sku: delta.sku, timesAdded: sum.timesAdded + delta.timesAdded, quantityInOpenCarts: sum.quantityInOpenCarts + delta.quantityInOpenCarts } : delta);
      }
    }
    return [
      ...pack.map(({ run, after }) => this.stepItems(run.cartId, run.from, after, [], { kind: 'whole' })[0]!),
      ...[...merged.values()].map((delta) => this.skuUpdate(delta)),
    ];
  }

  async reset(): Promise<{ deleted: number }> {
    return { deleted: await deleteGenerationItems(this.documents, this.tableName, ITEM_POPULARITY_KEY.partitionKey, this.keyPrefix) };
  }

  /** Most added first, ties by sku: pages through the ranking index until the ties at the cut are all in. */
  async topItems(limit: number): Promise<ItemPopularity[]> {
    const rows: ItemPopularity[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: ITEM_POPULARITY_RANKING.indexName,
          KeyConditionExpression: '#board = :board',
          ExpressionAttributeNames: { '#board': ITEM_POPULARITY_RANKING.partitionKey },
          ExpressionAttributeValues: { ':board': this.board },
          ScanIndexForward: false,
          Limit: limit,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        rows.push({ sku: String(item.sku), timesAdded: Number(item.timesAdded), quantityInOpenCarts: Number(item.quantityInOpenCarts) });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey && !(rows.length > limit - 1 && rows.at(-1)!.timesAdded < rows[limit - 1]!.timesAdded));
    return rankItems(rows, limit);
  }

  private async applyInChunks(cartId: string, from: CartCursor, after: CartCursor, deltas: readonly SkuDelta[]): Promise<boolean> {
    const chunks: SkuDelta[][] = [];
    for (let i = 0; i < deltas.length; i += MAX_SKUS_PER_STEP) chunks.push(deltas.slice(i, i + MAX_SKUS_PER_STEP));
    let chunk = 0;
    while (chunk < chunks.length) {
      const ok = await this.transact(this.stepItems(cartId, from, after, chunks[chunk]!, { kind: 'chunk', index: chunk, of: chunks.length }));
      if (ok) {
        chunk++;
        continue;
      }
      // Someone else may be finishing this very event (a retry of ours, or another writer): resume after them.
      const stored = await this.readStored(cartId);
      if (!stored || stored.version !== from.version || stored.pendingVersion !== after.version || stored.pendingChunks === undefined) {
        return false;
      }
      if (stored.pendingChunks <= chunk) return false;
      chunk = stored.pendingChunks;
    }
    return true;
  }

  private stepItems(
    cartId: string,
    from: CartCursor,
    after: CartCursor,
    deltas: readonly SkuDelta[],
    mode: { kind: 'whole' } | { kind: 'chunk'; index: number; of: number },
  ) {
    const first = mode.kind === 'whole' || mode.index === 0;
    const last = mode.kind === 'whole' || mode.index === mode.of - 1;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    let condition: string;
    if (first && from.version === 0) {
      // Nothing applied yet: no cursor may exist (one at version 0 exists only while an event's chunks are pending).
      condition = 'attribute_not_exists(#pk)';
      names['#pk'] = ITEM_POPULARITY_KEY.partitionKey;
    } else if (first) {
      condition = '#version = :from AND attribute_not_exists(pendingVersion)';
      Object.assign(names, { '#version': 'version' });
      Object.assign(values, { ':from': from.version });
    } else {
      condition = '#version = :from AND pendingVersion = :to AND pendingChunks = :done';
      Object.assign(names, { '#version': 'version' });
      Object.assign(values, { ':from': from.version, ':to': after.version, ':done': (mode as { index: number }).index });
    }
    const key = { [ITEM_POPULARITY_KEY.partitionKey]: this.cartKey(cartId) };
    let cursorItem: TransactItem;
    if (last) {
      // The cursor after its last step is whole: a Put (which also drops any pending marks) instead of an update.
      cursorItem = {
        Put: {
          TableName: this.tableName,
          Item: { ...key, cartId, version: after.version, status: after.state.status, lines: encodeCursorLines(after.state) },
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        },
      };
    } else {
      cursorItem = {
        Update: {
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'SET #version = :from, pendingVersion = :to, pendingChunks = :next',
          ConditionExpression: condition,
          ExpressionAttributeNames: { ...names, '#version': 'version' },
          ExpressionAttributeValues: { ...values, ':from': from.version, ':to': after.version, ':next': (mode as { index: number }).index + 1 },
        },
      };
    }
    return [
      cursorItem,
      ...deltas.map((delta) => this.skuUpdate(delta)),
    ];
  }

  private skuUpdate(delta: SkuDelta): TransactItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: { [ITEM_POPULARITY_KEY.partitionKey]: this.skuKey(delta.sku) },
        UpdateExpression: 'SET sku = :sku, #board = :board ADD timesAdded :added, quantityInOpenCarts :open',
        ExpressionAttributeNames: { '#board': ITEM_POPULARITY_RANKING.partitionKey },
        ExpressionAttributeValues: { ':sku': delta.sku, ':board': this.board, ':added': delta.timesAdded, ':open': delta.quantityInOpenCarts },
      },
    };
  }

  /** true when written, false when the cursor condition failed; transaction conflicts on shared sku rows are retried. */
  private async transact(items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.documents.send(new TransactWriteCommand({ TransactItems: items }));
        return true;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const codes = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
        if (codes[0] === 'ConditionalCheckFailed') return false;
        const contention = codes.some((code) => code === 'TransactionConflict' || code === 'ThrottlingError' || code === 'ProvisionedThroughputExceeded');
        if (!contention || attempt >= MAX_CONTENTION_RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(500, 10 * 2 ** attempt)));
      }
    }
  }

  private async readStored(cartId: string): Promise<StoredCursor | undefined> {
    const { Item } = await this.documents.send(
      new GetCommand({ TableName: this.tableName, Key: { [ITEM_POPULARITY_KEY.partitionKey]: this.cartKey(cartId) }, ConsistentRead: true }),
    );
    return Item ? storedCursorOf(Item) : undefined;
  }

}

interface PackedStep {
  readonly run: CartRun;
  readonly after: CartCursor;
  readonly deltas: readonly SkuDelta[];
}

function storedCursorOf(Item: Record<string, unknown>): StoredCursor {
  const version = Number(Item.version ?? 0);
  return {
    version,
    state: version === 0 || Item.status === undefined ? EMPTY_CURSOR.state : { status: Item.status === 'CLOSED' ? 'CLOSED' : 'OPEN', items: decodeLines(Item) },
    ...(Item.pendingVersion === undefined ? {} : { pendingVersion: Number(Item.pendingVersion), pendingChunks: Number(Item.pendingChunks) }),
  };
}

/**
 * The cursor keeps the cart's lines as one JSON string of [sku, quantity] pairs, not a list of maps: nobody
 * queries into them, and one string attribute costs far less to write and read than two attributes per line
 * (marshalling here, parsing in DynamoDB; a replay writes one cursor per cart). Item names are not needed here.
 */
export function encodeCursorLines(state: CartCursor['state']): string {
  return JSON.stringify(linesOf(state).map((line) => [line.sku, line.quantity]));
}

function decodeLines(Item: Record<string, unknown>): CartLine[] {
  if (typeof Item.lines === 'string') {
    return (JSON.parse(Item.lines) as [string, number][]).map(([sku, quantity]) => ({ sku: String(sku), quantity: Number(quantity) }));
  }
  // Cursors written before the string form kept a list of {sku, quantity} maps under `items`.
  return ((Item.items ?? []) as CartLine[]).map((line) => ({ sku: String(line.sku), quantity: Number(line.quantity) }));
}

/**
 * The longest prefix of the run whose summed deltas fit one transaction; at least one event (which then may
 * need chunks). Summed deltas of consecutive events equal the deltas of the run, so merging changes nothing.
 */
function nextStep(cartId: string, from: CartCursor, run: readonly VersionedCartEvent[]): { events: number; after: CartCursor; deltas: SkuDelta[] } {
  const stepOf = (n: number) => ({ events: n, after: advanceCursor(from, run.slice(0, n)), deltas: businessDeltas(cartId, popularityDeltas(from.state, run.slice(0, n)).deltas) });
  const whole = stepOf(run.length);
  if (whole.deltas.length <= MAX_SKUS_PER_STEP || run.length === 1) return whole;
  // Binary search for a prefix that fits (long, not necessarily the longest: removals can cancel deltas).
  let low = 1;
  let high = run.length - 1;
  let best = stepOf(1);
  while (low <= high) {
    const mid = (low + high) >> 1;
    const step = stepOf(mid);
    if (step.deltas.length <= MAX_SKUS_PER_STEP) {
      best = step;
      low = mid + 1;
    } else high = mid - 1;
  }
  return best;
}
