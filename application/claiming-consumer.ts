import type { EventEnvelope } from '../domain/events';
import type { CartPosition, SequencedConsumer } from './sequencer';

/** Where a consumer keeps the last version it handled per cart (port): a DynamoDB table on AWS, memory in tests. */
export interface PositionStore {
  /** Stored positions, strongly consistent; a cart with none may be absent (= 0). */
  read(cartIds: readonly string[]): Promise<Map<string, number>>;
  /** Moves the cart's position from `from` to `to` if it is still `from` (0 = none stored); false if it moved. */
  advance(cartId: string, from: number, to: number): Promise<boolean>;
}

/**
 * A sequenced consumer for side effects that cannot be checked or undone afterwards (a log line, a message to
 * another system): each run is CLAIMED by the conditional position write first and performed after, so two
 * deliveries of one run racing (a redelivery after a timeout while the first attempt still runs, a replay) perform
 * it once: the one that lost the claim does nothing. The price: a crash between the claim and the effect loses
 * that run's effect. A consumer whose effect can be made conditional itself (a projection row) should keep its
 * position in the same write instead, as the projections do.
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
      return Promise.all(
        runs.map(async ({ cartId, from, events }) => {
          const claimed = await positions.advance(cartId, from.version, events.at(-1)!.version);
          if (!claimed) return { handled: 0 };
          await perform(cartId, events);
          return { handled: events.length };
        }),
      );
    },
    positionAfter: (_from, events) => ({ version: events.at(-1)!.version }),
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
