import type { EventStore } from '../application/event-store';
import type { GenerationPointerStore } from '../application/generations';
import { InMemoryCartSummaryTable, InMemoryItemPopularityTable } from '../application/in-memory-projection-tables';
import type { ProjectionTable } from '../application/projections';
import type { PositionStore } from '../application/claiming-consumer';
import { toCartSummary, type CartSummary, type GenerationPointer } from '../domain/projections';
import type { Invocation, Scheduler } from './scheduler';

/**
 * The ports of the application, each call a scheduled step of its caller (owner + invocation), over the shared
 * in-memory state that stands for DynamoDB. Each wrapper keeps the conditional semantics of the real adapter, so
 * that a retried write meets its own effect exactly as DynamoDB's conditional writes do.
 */
export interface Caller {
  readonly owner: string;
  /** The caller's current invocation (read at each call: a sandbox runs one invocation at a time). */
  invocation(): Invocation | undefined;
}

export function fixedCaller(owner: string, invocation?: Invocation): Caller {
  return { owner, invocation: () => invocation };
}

export function scheduledEventStore(scheduler: Scheduler, store: EventStore, caller: Caller): EventStore {
  return {
    readStream: (cartId, afterVersion) =>
      scheduler.call(caller.owner, caller.invocation(), () => `store.readStream ${cartId} after v${afterVersion ?? 0}`, 'read', () => store.readStream(cartId, afterVersion)),
    appendToStream: (cartId, expectedVersion, events) =>
      scheduler.call(caller.owner, caller.invocation(), () => `store.append ${cartId} v${expectedVersion + 1}..v${expectedVersion + events.length} [${events.map((e) => e.type).join(',')}]`, 'write', () =>
        store.appendToStream(cartId, expectedVersion, events),
      ),
  };
}

/** The consumer-positions table: per cart the position and the token of the write that set it. */
export class InMemoryPositionsTable {
  readonly items = new Map<string, { version: number; writeToken: string }>();
  private tokens = 0;

  newToken(): string {
    return `w${++this.tokens}`;
  }
}

/**
 * A consumer's positions as adapters/dynamodb/consumer-positions-table.ts keeps them: a conditional Put carrying a
 * fresh write token; when it fails its condition or fails outright, a strongly consistent read tells its own
 * (applied, answer lost) write from another writer's.
 */
export function scheduledPositions(scheduler: Scheduler, table: InMemoryPositionsTable, consumer: string, caller: Caller): PositionStore {
  const get = (cartId: string) => scheduler.call(caller.owner, caller.invocation(), () => `${consumer}.positions.get ${cartId}`, 'read', () => table.items.get(cartId));
  return {
    read: async (cartIds) => {
      const found = await Promise.all(cartIds.map(async (cartId) => [cartId, (await get(cartId))?.version] as const));
      return new Map(found.filter((entry): entry is readonly [string, number] => entry[1] !== undefined));
    },
    advance: async (cartId, from, to) => {
      const writeToken = table.newToken();
      const put = () => {
        if ((table.items.get(cartId)?.version ?? 0) !== from) return false;
        table.items.set(cartId, { version: to, writeToken });
        return true;
      };
      let failure: unknown;
      try {
        if (await scheduler.call(caller.owner, caller.invocation(), () => `${consumer}.positions.advance ${cartId} ${from}->${to}`, 'write', put)) return true;
      } catch (error) {
        failure = error;
      }
      let item: { version: number; writeToken: string } | undefined;
      try {
        item = await get(cartId);
      } catch {
        throw failure ?? new Error(`${consumer}: cannot tell whether the position of ${cartId} moved`);
      }
      if (item?.writeToken === writeToken && item.version === to) return true;
      if (failure === undefined) return false;
      throw failure;
    },
  };
}

/** The pointer item: a Put conditional on the revision, as adapters/dynamodb/generation-pointer.ts writes it. */
export class InMemoryPointer implements GenerationPointerStore {
  constructor(public stored: GenerationPointer) {}

  async read(): Promise<GenerationPointer> {
    return structuredClone(this.stored);
  }

  async write(next: GenerationPointer, expectedRevision: number): Promise<boolean> {
    if (this.stored.revision !== expectedRevision) return false;
    this.stored = structuredClone(next);
    return true;
  }
}

export function scheduledPointer(scheduler: Scheduler, pointer: GenerationPointerStore, caller: Caller): GenerationPointerStore {
  return {
    read: () => scheduler.call(caller.owner, caller.invocation(), 'pointer.read', 'read', () => pointer.read()),
    write: (next, expected) => scheduler.call(caller.owner, caller.invocation(), () => `pointer.write r${expected}->r${next.revision} ${JSON.stringify(next.projections)}`, 'write', () => pointer.write(next, expected)),
  };
}

/** Both projection tables of every generation, created on first use (a generation's rows under its key prefix). */
export class GenerationTables {
  private readonly tables = new Map<number, { summary: InMemoryCartSummaryTable; popularity: InMemoryItemPopularityTable }>();

  of(generation: number): { summary: InMemoryCartSummaryTable; popularity: InMemoryItemPopularityTable } {
    let tables = this.tables.get(generation);
    if (!tables) {
      tables = { summary: new InMemoryCartSummaryTable(), popularity: new InMemoryItemPopularityTable() };
      this.tables.set(generation, tables);
    }
    return tables;
  }

  summary(generation: number, cartId: string): CartSummary | undefined {
    const cursor = this.of(generation).summary.cursors.get(cartId);
    return cursor ? toCartSummary(cartId, cursor) : undefined;
  }
}

export function scheduledTable(scheduler: Scheduler, table: ProjectionTable, generation: number, caller: Caller): ProjectionTable {
  const name = `${table.name}[g${generation}]`;
  return {
    name: table.name,
    readCursor: (cartId) => scheduler.call(caller.owner, caller.invocation(), () => `${name}.readCursor ${cartId}`, 'read', () => table.readCursor(cartId)),
    applyRun: (cartId, from, run) =>
      scheduler.call(caller.owner, caller.invocation(), () => `${name}.applyRun ${cartId} v${from.version}->v${run.at(-1)?.version}`, 'write', () => table.applyRun(cartId, from, run)),
    reset: () => scheduler.call(caller.owner, caller.invocation(), () => `${name}.deleteAll`, 'write', () => table.reset()),
  };
}
