/**
 * Example of a third-party consumer of the `cart-events` Kinesis stream: it sends a "cart closed" notice per closed
 * cart, with the cart's total quantity, AT LEAST ONCE (never lost; repeated only in the windows
 * application/claiming-consumer.ts names, always with the same `noticeId`, by which the receiver drops repeats).
 *
 * Kinesis hands it duplicates and, on AWS, a cart's events out of order (docs/delivery-guarantees.md). It does not
 * deal with that itself: a CartSequencer does (duplicates dropped, gaps caught up from the event store, each run
 * performed and then its position moved by a conditional write). A notice that fails to send fails its records,
 * and their redelivery sends it again.
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { claimingConsumer, type PositionStore } from '../../application/claiming-consumer';
import type { EventStore } from '../../application/event-store';
import { CartSequencer } from '../../application/sequencer';
import { EventEnvelope } from '../../domain/events';

export interface ClosedCartNotice {
  /** The CartClosed event's id: the same for every repeat of this notice (the receiver's idempotency key). */
  readonly noticeId: string;
  readonly cartId: string;
  readonly totalQuantity: number;
}

/**
 * A Lambda handler for the stream. `positions` is where the notifier keeps its per-cart positions (on AWS the
 * consumer-positions table through DynamoDbPositionStore with its own consumer name), `store` the event store it
 * may read gaps from, `send` the notice's delivery.
 */
export function cartClosedNotifier(options: {
  readonly positions: PositionStore;
  readonly store: Pick<EventStore, 'readStream'>;
  readonly send: (notice: ClosedCartNotice) => Promise<void> | void;
}): (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse> {
  const sequencer = new CartSequencer(
    claimingConsumer('cart-closed-notifier', options.positions, async (cartId, events) => {
      for (const event of events) {
        if (event.type === 'CartClosed') await options.send({ noticeId: event.eventId, cartId, totalQuantity: await totalQuantityBefore(cartId, event.version) });
      }
    }),
    options.store,
  );
  // The total is folded from the event store, not from what this process was handed: a run may be performed
  // again (after a failed send or a lost position write) or start mid-cart in a fresh process.
  async function totalQuantityBefore(cartId: string, version: number): Promise<number> {
    const { events } = await options.store.readStream(cartId);
    let total = 0;
    for (const event of events.filter((e) => e.version < version)) {
      const data = event.data as { quantity?: number };
      if (event.type === 'ItemAdded') total += data.quantity ?? 0;
      if (event.type === 'ItemRemoved') total -= data.quantity ?? 0;
    }
    return total;
  }
  return async (event) => {
    const failures: { itemIdentifier: string }[] = [];
    // All records at once: the sequencer orders each cart's records of the batch into one run.
    await Promise.all(
      event.Records.map(async (record) => {
        const envelope = EventEnvelope.parse(JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')));
        try {
          await sequencer.offer(envelope);
        } catch {
          failures.push({ itemIdentifier: record.kinesis.sequenceNumber });
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}
