import type { EventEnvelope } from '../domain/events';
import type { CartPosition, SequencedConsumer } from './sequencer';

/** Where a consumer keeps the last version it handled per cart (port): a DynamoDB table on AWS, memory in tests. */
export interface PositionStore {
  /** Stored positions, strongly consistent; a cart with none may be absent (= 0). */
  read(cartIds: readonly string[]): Promise<Map<string, number>>;
  /**
   * Moves the cart's position from `from` to `to` if it is still `from` (0 = none stored): true if THIS call moved
   * it, false if another writer had. A write whose answer was lost (applied, then an error or a timeout, and the
   * SDK's retry then failing its condition) must still answer true: the store tells its own write from another's
   * (DynamoDbPositionStore writes a token with the position and reads it back). Throws only when it cannot tell.
   */
  advance(cartId: string, from: number, to: number): Promise<boolean>;
}

/**
 * A sequenced consumer for side effects that cannot be made conditional (a log line, a message to another system):
 * AT LEAST ONCE. Each run's effect is PERFORMED FIRST and its position moved after, by the conditional write, so
 * the position never gets ahead of what was done: a failed effect, a crash or a timeout between the effect and the
 * position write, or a position write whose answer was lost never loses an event; the run is performed again by the
 * next delivery instead. The price is a bounded duplication: an event's effect is repeated only when a delivery
 * performed it and did not move the position (it crashed or timed out in between, or its write failed past the
 * SDK's retries), or when two deliveries of one run were in flight at once (the loser of the position write
 * performed it too). Every repeat carries the same `eventId`, so the effect's receiver can drop it
 * (docs/delivery-guarantees.md). A consumer whose effect can be made conditional itself (a projection row) keeps
 * its position in the same write instead and gets it exactly once, as the projections do.
 */
export function claimingConsumer(
  name: string,
  positions: PositionStore,
  perform: (cartId: string, events: readonly EventEnvelope[]) => Promise<void> | void,
): SequencedConsumer<CartPosition> {
  return {
    name,
    initialPosition: { version: 0 },
    async readPositions(cartIds) {
      const read = await positions.read(cartIds);
      return new Map([...read].map(([cartId, version]) => [cartId, { version }]));
    },
    async handleRuns(runs) {
      // allSettled: a failed run does not leave the others' writes running after the batch is reported failed.
      const settled = await Promise.allSettled(
        runs.map(async ({ cartId, from, events }) => {
          await perform(cartId, events);
          const moved = await positions.advance(cartId, from.version, events.at(-1)!.version);
          // Not moved: another writer had moved the position (the sequencer re-reads it and skips what it covers).
          return { handled: moved ? events.length : 0 };
        }),
      );
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      return settled.map((s) => (s as PromiseFulfilledResult<{ handled: number }>).value);
    },
    positionAfter: (_from, events) => ({ version: events.at(-1)!.version }),
    handlesOnlyFromReadPositions: true,
  };
}

/** Positions in memory: for tests and examples (a process restart forgets them). */
export class InMemoryPositionStore implements PositionStore {
  private readonly positions = new Map<string, number>();

  async read(cartIds: readonly string[]): Promise<Map<string, number>> {
    return new Map(cartIds.filter((id) => this.positions.has(id)).map((id) => [id, this.positions.get(id)!]));
  }

  async advance(cartId: string, from: number, to: number): Promise<boolean> {
    if ((this.positions.get(cartId) ?? 0) !== from) return false;
    this.positions.set(cartId, to);
    return true;
  }
}
