import type { KinesisStreamEvent } from 'aws-lambda';
import { executeCartCommand } from '../application/cart-commands';
import { claimingConsumer } from '../application/claiming-consumer';
import type { EventStore } from '../application/event-store';
import { CachedGenerationPointer, GenerationalProjections, GenerationalReadModels, POINTER_CACHE_MS } from '../application/generations';
import { InMemoryEventStore } from '../application/in-memory-event-store';
import { CartProjections, PROJECTION_NAMES } from '../application/projections';
import { abandonRebuild, catchUpRebuild, prepareRebuild, retireGenerations, switchGeneration, type RebuildDeps } from '../application/rebuild';
import { markReplayed } from '../application/replay';
import { replayProjections } from '../application/replay-projections';
import { CartSequencer } from '../application/sequencer';
import type { CartCommand } from '../domain/cart';
import { eventsAddedBy, type StreamChange } from '../domain/cdc';
import type { EventEnvelope } from '../domain/events';
import { INITIAL_POINTER } from '../domain/projections';
import { cartClosedNotifier, type ClosedCartNotice } from '../examples/cart-closed-notifier/notifier';
import { fixedCaller, GenerationTables, InMemoryPositionsTable, InMemoryPointer, scheduledEventStore, scheduledPointer, scheduledPositions, scheduledTable, type Caller } from './ports';
import type { Random } from './random';
import { InvocationDied, type Invocation, type Scheduler } from './scheduler';

/** Function timeouts of infra/constructs/registry-functions.ts (the default 30 s; the rebuild steps 900 s). */
export const CONSUMER_TIMEOUT_MS = 30_000;
const REBUILD_STEP_TIMEOUT_MS = 900_000;
/** API Gateway's integration timeout: the API function's answer is lost after it. */
const API_TIMEOUT_MS = 29_000;
const SHARDS = 2;
const EPOCH = Date.UTC(2026, 0, 1);

export interface KinesisRecord {
  readonly sequenceNumber: string;
  readonly envelope: EventEnvelope;
}

export interface Execution {
  readonly name: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  reason?: string;
}

export interface IssuedCommand {
  readonly commandId: string;
  readonly cartId: string;
  readonly command: CartCommand;
}

/** Each command type of the domain, drawn for a cart: a type the domain adds fails the compiler here. */
const DRAW_COMMAND: { [T in CartCommand['type']]: (random: Random, skus: readonly string[]) => Extract<CartCommand, { type: T }> } = {
  OpenCart: () => ({ type: 'OpenCart' }),
  AddItem: (random, skus) => ({ type: 'AddItem', sku: random.pick(skus), quantity: random.int(1, 3) }),
  RemoveItem: (random, skus) => ({ type: 'RemoveItem', sku: random.pick(skus), ...(random.chance(0.5) ? { quantity: 1 } : {}) }),
  // 1-3 on skus the cart may lack or already hold at that quantity: setting what a line has decides nothing.
  SetItemQuantity: (random, skus) => ({ type: 'SetItemQuantity', sku: random.pick(skus), quantity: random.int(1, 3) }),
  CloseCart: () => ({ type: 'CloseCart' }),
};
const MIDDLE_COMMANDS = (Object.keys(DRAW_COMMAND) as CartCommand['type'][]).filter((type) => type !== 'OpenCart' && type !== 'CloseCart');

/**
 * The whole pipeline of one schedule: API writers -> event store -> DynamoDB stream -> Pipe with the real
 * enrichment split -> Kinesis (2 shards) -> event source mappings of the projections, the event log and the
 * cart-closed notifier, Firehose to the archive, readers of the read API, and blue/green rebuild executions, every
 * one of them an actor of the one scheduler.
 */
export class World {
  readonly store = new InMemoryEventStore();
  readonly streamRecords: StreamChange[] = [];
  readonly shards: KinesisRecord[][] = Array.from({ length: SHARDS }, () => []);
  readonly archive: EventEnvelope[][] = [];
  readonly eventLog: EventEnvelope[] = [];
  readonly notices: ClosedCartNotice[] = [];
  readonly tables = new GenerationTables();
  readonly pointer = new InMemoryPointer(INITIAL_POINTER);
  readonly positions = { eventLog: new InMemoryPositionsTable(), notifier: new InMemoryPositionsTable() };
  readonly commands: IssuedCommand[] = [];
  readonly executions: Execution[] = [];
  readonly backwardReads: string[] = [];
  readonly cartIds: string[] = [];
  private writersLeft = 0;
  private pipeDone = false;
  private consumersLeft = 0;
  private kinesisSequence = 0;
  private streamSequence = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly scheduler: Scheduler) {
    const append = this.store.appendToStream.bind(this.store);
    // The table's stream: one INSERT record per event item, in commit order (NEW_AND_OLD_IMAGES).
    this.store.appendToStream = async (cartId, expectedVersion, events) => {
      const result = await append(cartId, expectedVersion, events);
      for (const event of events) {
        const sequenceNumber = String(++this.streamSequence).padStart(21, '0');
        this.notify();
        this.streamRecords.push({ recordId: `r${sequenceNumber}`, eventName: 'INSERT', keys: { aggregateId: cartId, version: event.version }, sequenceNumber, newImage: structuredClone(event) });
      }
      return result;
    };
  }

  /**
   * A poller with nothing to read waits until something changes (a stream record, a Kinesis record, an actor that
   * finished), then polls after a latency the scheduler draws: no idle polling steps, the same choices of order.
   */
  private async changed(owner: string): Promise<void> {
    await new Promise<void>((resolve) => this.waiters.push(resolve));
    await this.scheduler.sleep(owner, this.random.int(1, 200));
  }

  private notify(): void {
    const waiters = this.waiters.splice(0);
    for (const wake of waiters) wake();
  }

  get random(): Random {
    return this.scheduler.random;
  }

  /** Draws the schedule's workload and starts every actor. */
  start(): void {
    const random = this.random;
    const carts = random.int(1, 3);
    const skus = ['sku-a', 'sku-b', 'sku-c'];
    for (let c = 0; c < carts; c++) {
      const cartId = `cart${c + 1}`;
      this.cartIds.push(cartId);
      const middle = Array.from({ length: random.int(0, 3) }, () => DRAW_COMMAND[random.pick(MIDDLE_COMMANDS)](random, skus));
      const close = random.chance(0.7) ? [DRAW_COMMAND.CloseCart(random, skus)] : [];
      const hot = random.chance(0.3) && middle.length > 1;
      // A hot cart: a second writer sends half of the cart's middle commands concurrently.
      const second = hot ? middle.splice(0, Math.ceil(middle.length / 2)) : [];
      this.writer(`api-${cartId}`, cartId, [DRAW_COMMAND.OpenCart(random, skus), ...middle, ...close]);
      if (hot) this.writer(`api-${cartId}-hot`, cartId, second, 20);
    }
    this.pipe();
    for (let shard = 0; shard < SHARDS; shard++) {
      this.mapping('projections', shard, () => this.projectionsSandbox());
      this.mapping('event-log', shard, () => this.eventLogSandbox());
      this.mapping('notifier', shard, () => this.notifierSandbox());
      this.firehose(shard);
    }
    this.reader();
    if (random.chance(0.6)) this.rebuilds(random.int(1, 2));
  }

  get quiescent(): boolean {
    return this.writersLeft === 0 && this.pipeDone && this.consumersLeft === 0;
  }

  storePort(caller: Caller): EventStore {
    return scheduledEventStore(this.scheduler, this.store, caller);
  }

  private writer(owner: string, cartId: string, commands: CartCommand[], startAfterMs = 0): void {
    this.writersLeft++;
    this.scheduler.spawn(owner, async () => {
      try {
        if (startAfterMs > 0) await this.scheduler.sleep(owner, startAfterMs);
        for (const command of commands) {
          const commandId = `${owner}-cmd${this.commands.length + 1}`;
          this.commands.push({ commandId, cartId, command });
          // The client retries a lost answer (5xx, timeout) with the same Idempotency-Key, so the same commandId.
          for (let attempt = 1; attempt <= 6; attempt++) {
            const invocation = this.scheduler.invocation('api', API_TIMEOUT_MS);
            try {
              await executeCartCommand(this.storePort(fixedCaller(owner, invocation)), cartId, command, {
                commandId,
                maxAttempts: 60,
                clock: { now: () => new Date(EPOCH + this.scheduler.now) },
                // Full-jitter backoff, drawn from the schedule's own random stream.
                sleep: () => this.scheduler.sleep(owner, this.random.int(1, 50), invocation),
              });
              break;
            } catch (error) {
              if (!isTransient(error)) break; // a final answer (a rule refusal): the client stops
              await this.scheduler.sleep(owner, this.random.int(10, 200));
            }
          }
          await this.scheduler.sleep(owner, this.random.int(1, 400));
        }
      } finally {
        this.writersLeft--;
        this.notify();
      }
    });
  }

  /** The EventBridge Pipe: batches of stream records, split by the real enrichment, put to Kinesis. */
  private pipe(): void {
    const owner = 'pipe';
    this.scheduler.spawn(owner, async () => {
      let position = 0;
      for (;;) {
        if (position >= this.streamRecords.length) {
          if (this.writersLeft === 0) break;
          await this.changed(owner);
          continue;
        }
        const batch = this.streamRecords.slice(position, position + this.random.int(1, 4));
        const invocation = this.scheduler.invocation('enrichment', 60_000);
        try {
          await this.scheduler.call(owner, invocation, () => `enrichment of ${batch.length} stream records`, 'effect', () => undefined);
          let envelopes = batch.flatMap((change) => eventsAddedBy(change, 'event-per-item'));
          // PutRecords may refuse some records (throttling); the Pipe retries them, behind those that went in.
          while (envelopes.length > 0) {
            envelopes = await this.scheduler.call(owner, invocation, () => `kinesis.putRecords ${envelopes.map(describe).join(' ')}`, 'write', () => this.putRecords(envelopes));
          }
          position += batch.length;
        } catch (error) {
          if (!isTransient(error)) throw error;
          // The Pipe retries the whole batch: what was put already is put again (duplicates).
        }
      }
      this.pipeDone = true;
      this.notify();
    });
  }

  /** Puts each envelope on its cart's shard unless refused; returns the refused ones. */
  private putRecords(envelopes: readonly EventEnvelope[]): EventEnvelope[] {
    const refused: EventEnvelope[] = [];
    for (const envelope of envelopes) {
      if (envelopes.length > 1 && this.scheduler.faultsOn && this.random.chance(this.scheduler.faults.rate / 2)) {
        refused.push(envelope);
        continue;
      }
      this.notify();
      this.shards[shardOf(envelope.aggregateId)]!.push({ sequenceNumber: String(++this.kinesisSequence).padStart(21, '0'), envelope: structuredClone(envelope) });
    }
    if (refused.length > 0) this.scheduler.log(() => `kinesis refuses ${refused.map(describe).join(' ')} (retried behind the others)`);
    return refused;
  }

  /**
   * A Kinesis event source mapping: batches from its checkpoint, one invocation at a time per shard; a batch item
   * failure moves the checkpoint to the failed record; a crashed or timed-out invocation gets its whole batch again
   * (in a new sandbox: what the old one remembered is gone).
   */
  private mapping(consumer: string, shard: number, sandbox: () => Sandbox): void {
    const owner = `${consumer}-shard${shard}`;
    this.consumersLeft++;
    this.scheduler.spawn(owner, async () => {
      let checkpoint = 0;
      let current = sandbox();
      for (;;) {
        const records = this.shards[shard]!.slice(checkpoint, checkpoint + this.random.int(1, 5));
        if (records.length === 0) {
          if (this.pipeDone && checkpoint >= this.shards[shard]!.length) break;
          await this.changed(owner);
          continue;
        }
        const invocation = this.scheduler.invocation(owner, CONSUMER_TIMEOUT_MS);
        current.invocation = invocation;
        let firstFailed: number | undefined;
        try {
          firstFailed = await current.handle(records, owner);
        } catch (error) {
          if (!isTransient(error)) throw error;
          firstFailed = 0;
        }
        if (!invocation.alive) {
          current = sandbox();
          continue;
        }
        checkpoint += firstFailed ?? records.length;
        if (firstFailed !== undefined) await this.scheduler.sleep(owner, 100);
      }
      this.consumersLeft--;
      this.notify();
    });
  }

  private projectionsSandbox(): Sandbox {
    const sandbox: Sandbox = {
      invocation: undefined,
      handle: async (records, owner) => {
        const projections = (sandbox.state ??= this.generationalProjections({ owner, invocation: () => sandbox.invocation })) as GenerationalProjections;
        const failed = await Promise.all(records.map((record, index) => projections.applyOne(record.envelope).then(() => undefined, () => index)));
        return firstDefined(failed);
      },
    };
    return sandbox;
  }

  private eventLogSandbox(): Sandbox {
    const sandbox: Sandbox = {
      invocation: undefined,
      handle: async (records, owner) => {
        const caller: Caller = { owner, invocation: () => sandbox.invocation };
        const sequencer = (sandbox.state ??= new CartSequencer(
          claimingConsumer('event-log', scheduledPositions(this.scheduler, this.positions.eventLog, 'event-log', caller), (cartId, events) =>
            // The lines go to the function's output: lost if the sandbox dies before they are written.
            this.scheduler.call(owner, caller.invocation(), () => `log.write ${cartId} v${events[0]!.version}..v${events.at(-1)!.version}`, 'effect', () => {
              this.eventLog.push(...events);
            }),
          ),
          this.storePort(caller),
        )) as CartSequencer<{ version: number }>;
        const failed = await Promise.all(records.map((record, index) => sequencer.offer(record.envelope).then(() => undefined, () => index)));
        return firstDefined(failed);
      },
    };
    return sandbox;
  }

  private notifierSandbox(): Sandbox {
    const sandbox: Sandbox = {
      invocation: undefined,
      handle: async (records, owner) => {
        const caller: Caller = { owner, invocation: () => sandbox.invocation };
        const handler = (sandbox.state ??= cartClosedNotifier({
          positions: scheduledPositions(this.scheduler, this.positions.notifier, 'notifier', caller),
          store: this.storePort(caller),
          // An HTTP call to another system, not retried by an SDK: one attempt, which may be sent and unanswered.
          send: (notice) => this.scheduler.call(owner, caller.invocation(), () => `notify.send ${notice.cartId}`, 'write', () => void this.notices.push(notice), 1),
        })) as (event: KinesisStreamEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
        const event = {
          Records: records.map((record) => ({ kinesis: { sequenceNumber: record.sequenceNumber, data: Buffer.from(JSON.stringify(record.envelope)).toString('base64') } })),
        } as unknown as KinesisStreamEvent;
        const { batchItemFailures } = await handler(event);
        const failed = new Set(batchItemFailures.map((failure) => failure.itemIdentifier));
        const index = records.findIndex((record) => failed.has(record.sequenceNumber));
        return index === -1 ? undefined : index;
      },
    };
    return sandbox;
  }

  /** Firehose: reads the shard and puts objects into the archive bucket (an S3 PUT may be applied and retried). */
  private firehose(shard: number): void {
    const owner = `firehose-shard${shard}`;
    this.consumersLeft++;
    this.scheduler.spawn(owner, async () => {
      let checkpoint = 0;
      for (;;) {
        if (checkpoint >= this.shards[shard]!.length) {
          if (this.pipeDone) break;
          await this.changed(owner);
          continue;
        }
        // Firehose buffers (BufferingHints: up to 60 s or 1 MiB): the archive lags the stream by seconds.
        await this.scheduler.sleep(owner, this.random.int(0, 8000));
        const records = this.shards[shard]!.slice(checkpoint);
        try {
          await this.scheduler.call(owner, undefined, () => `s3.putObject ${records.map((r) => describe(r.envelope)).join(' ')}`, 'write', () => void this.archive.push(records.map((r) => r.envelope)));
          checkpoint += records.length;
        } catch (error) {
          if (!isTransient(error)) throw error;
        }
      }
      this.consumersLeft--;
      this.notify();
    });
  }

  /** A client of the read API: a cart's answer must never go back to a lower version. */
  private reader(): void {
    const owner = 'reader';
    this.scheduler.spawn(owner, async () => {
      let invocation = this.scheduler.invocation('read-api', API_TIMEOUT_MS);
      const readModels = this.readModels({ owner, invocation: () => invocation });
      const highest = new Map<string, number>();
      while (!this.quiescent || this.executions.some((e) => e.status === 'RUNNING')) {
        await this.scheduler.sleep(owner, this.random.int(200, 1000));
        const cartId = this.random.pick(this.cartIds);
        // A warm read API sandbox (its cached pointer kept), one invocation per request.
        invocation = this.scheduler.invocation('read-api', API_TIMEOUT_MS);
        let version: number;
        try {
          version = (await readModels.cartSummary(cartId))?.version ?? 0;
        } catch (error) {
          if (!isTransient(error)) throw error;
          continue;
        }
        const before = highest.get(cartId) ?? 0;
        if (version < before) {
          this.backwardReads.push(`at ${this.scheduler.now}ms ${cartId} read v${version} after v${before}`);
          this.scheduler.log(() => `reader sees ${cartId} at v${version} after v${before}: BACKWARDS`);
        }
        highest.set(cartId, Math.max(before, version));
      }
    });
  }

  readModels(caller: Caller): GenerationalReadModels {
    const pointer = new CachedGenerationPointer(scheduledPointer(this.scheduler, this.pointer, caller), POINTER_CACHE_MS, () => this.scheduler.now);
    return new GenerationalReadModels(pointer, (generation) => ({
      cartSummary: (cartId) => this.scheduler.call(caller.owner, caller.invocation(), () => `cart-summary[g${generation}].get ${cartId}`, 'read', () => this.tables.summary(generation, cartId)),
      topItems: async () => [],
    }));
  }

  generationalProjections(caller: Caller): GenerationalProjections {
    const pointer = new CachedGenerationPointer(scheduledPointer(this.scheduler, this.pointer, caller), POINTER_CACHE_MS, () => this.scheduler.now);
    const store = this.storePort(caller);
    const byGeneration = new Map<number, CartProjections>();
    const of = (generation: number) => {
      let projections = byGeneration.get(generation);
      if (!projections) {
        const { summary, popularity } = this.tables.of(generation);
        projections = new CartProjections([scheduledTable(this.scheduler, summary, generation, caller), scheduledTable(this.scheduler, popularity, generation, caller)], store);
        byGeneration.set(generation, projections);
      }
      return projections;
    };
    return new GenerationalProjections(pointer, of, PROJECTION_NAMES);
  }

  /** Blue/green rebuilds as statemachines/replay.asl.json runs them: each step a Lambda with the task's retries. */
  private rebuilds(count: number): void {
    const owner = 'rebuild';
    this.scheduler.spawn(owner, async () => {
      await this.scheduler.sleep(owner, this.random.int(0, 3000));
      for (let n = 1; n <= count; n++) {
        const execution: Execution = { name: `rebuild-${n}`, status: 'RUNNING' };
        this.executions.push(execution);
        await this.rebuild(owner, execution);
        await this.scheduler.sleep(owner, this.random.int(0, 2000));
      }
    });
  }

  private async rebuild(owner: string, execution: Execution): Promise<void> {
    const request = { projections: [...PROJECTION_NAMES], executionName: execution.name };
    const deps = (invocation: Invocation): RebuildDeps => {
      const caller = fixedCaller(owner, invocation);
      return {
        pointer: scheduledPointer(this.scheduler, this.pointer, caller),
        projections: this.generationalProjections(caller),
        eventStore: this.storePort(caller),
        cartVersions: (generations) =>
          this.scheduler.call(owner, invocation, () => `cart-summary.scan g${generations.join(',g')}`, 'read', () => {
            return new Map(generations.map((g) => [g, new Map([...this.tables.of(g).summary.cursors].map(([cartId, cursor]) => [cartId, cursor.version]))]));
          }),
        deleteGeneration: (projection, generation) => {
          const { summary, popularity } = this.tables.of(generation);
          return this.scheduler.call(owner, invocation, () => `${projection}[g${generation}].deleteAll`, 'write', async () => (await (projection === 'cart-summary' ? summary : popularity).reset()).deleted);
        },
        sleep: (ms) => this.scheduler.sleep(owner, ms, invocation),
      };
    };
    // A Task state with Retry: 3 attempts, backoff; a state that fails them all goes to the Catch.
    const step = async <T>(name: string, work: (deps: RebuildDeps) => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        const invocation = this.scheduler.invocation(`${execution.name}.${name}`, REBUILD_STEP_TIMEOUT_MS);
        this.scheduler.log(() => `${execution.name}: ${name} (attempt ${attempt}) starts`);
        try {
          return await work(deps(invocation));
        } catch (error) {
          if (attempt >= 3) throw error;
          await this.scheduler.sleep(owner, 1000 * attempt);
        }
      }
    };
    const stopAfter = this.random.chance(0.15) ? this.random.int(1, 4) : undefined;
    const stopped = (done: number) => {
      if (done !== stopAfter) return false;
      execution.status = 'ABORTED';
      execution.reason = `stopped by an operator after ${done} steps`;
      this.scheduler.log(`${execution.name}: ${execution.reason}`);
      return true;
    };
    let generation: number | undefined;
    try {
      generation = (await step('prepare', (d) => prepareRebuild(d, request))).generation;
      if (stopped(1)) return;
      const objects = this.archive.slice();
      const target = generation;
      await step('replay', async (d) => {
        for (const object of objects) await replayProjections(d.projections).apply(request.projections, object.map(markReplayed), target);
      });
      if (stopped(2)) return;
      await step('catchUp', (d) => catchUpRebuild(d, { ...request, generation: target }));
      if (stopped(3)) return;
      const { previous } = await step('switch', (d) => switchGeneration(d, { ...request, generation: target }));
      if (stopped(4)) return;
      await step('retire', (d) => retireGenerations(d, { previous }));
      execution.status = 'SUCCEEDED';
    } catch (error) {
      execution.status = 'FAILED';
      execution.reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.scheduler.log(`${execution.name}: FAILED ${execution.reason}`);
      if (generation !== undefined) {
        const target = generation;
        try {
          await step('abandon', (d) => abandonRebuild(d, { ...request, generation: target }));
        } catch (abandonError) {
          execution.reason += `; abandon failed too: ${String(abandonError)}`;
        }
      }
    }
  }
}

interface Sandbox {
  invocation: Invocation | undefined;
  state?: unknown;
  /** Index of the first record to retry (batchItemFailures), or undefined when the whole batch is done. */
  handle(records: readonly KinesisRecord[], owner: string): Promise<number | undefined>;
}

/** A failure AWS documents (a lost answer, throttling, a dead invocation): the caller's retry path handles it. */
function isTransient(error: unknown): boolean {
  return error instanceof InvocationDied || (error instanceof Error && (error.name === 'CallFailed' || error.name === 'ConcurrencyRetriesExhausted'));
}

function firstDefined(values: readonly (number | undefined)[]): number | undefined {
  const found = values.filter((v): v is number => v !== undefined);
  return found.length === 0 ? undefined : Math.min(...found);
}

function shardOf(cartId: string): number {
  let hash = 0;
  for (const char of cartId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % SHARDS;
}

export function describe(envelope: EventEnvelope): string {
  return `${envelope.aggregateId}/v${envelope.version}`;
}
