/**
 * Example of a third-party consumer of the `cart-events` Kinesis stream that needs each cart's events exactly
 * once and in version order: it sends one "cart closed" notice per closed cart, with the cart's total quantity.
 *
 * Kinesis hands it duplicates and, on AWS, a cart's events out of order (docs/delivery-guarantees.md). It does not
 * deal with that itself: a CartSequencer does (duplicates dropped, gaps caught up from the event store, each run
 * claimed by a conditional write of its position). The consumer only folds what it is handed, in order.
 */
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { claimingConsumer, type PositionStore } from '../../application/claiming-consumer';
import type { EventStore } from '../../application/event-store';
import { CartSequencer } from '../../application/sequencer';
import { unreachable, upcastCartEvent } from '../../domain/cart';
import { EventEnvelope } from '../../domain/events';

export interface ClosedCartNotice {
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
  // Per cart, the total quantity so far. An example keeps it in memory; a real consumer keeps such state with its
  // position (or reads it back from the store), because a restart forgets this map.
  const totals = new Map<string, number>();
  const sequencer = new CartSequencer(
    claimingConsumer('cart-closed-notifier', options.positions, async (cartId, events) => {
      for (const envelope of events) {
        const event = upcastCartEvent(envelope.type, envelope.schemaVersion, envelope.data);
        const total = totals.get(cartId) ?? 0;
        switch (event.type) {
          case 'ItemAdded':
            totals.set(cartId, total + event.data.quantity);
            break;
          case 'ItemRemoved':
            totals.set(cartId, total - event.data.quantity);
            break;
          case 'ItemQuantityChanged':
            totals.set(cartId, total + event.data.quantity - event.data.previousQuantity);
            break;
          case 'CartClosed':
            await options.send({ cartId, totalQuantity: total });
            break;
          case 'CartOpened':
            break;
          default:
            unreachable(event, 'event type');
        }
      }
    }),
    options.store,
  );
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
