import type { KinesisStreamEvent } from 'aws-lambda';
import { InMemoryPositionStore } from '../../application/claiming-consumer';
import { InMemoryEventStore } from '../../application/in-memory-event-store';
import type { EventEnvelope } from '../../domain/events';
import { cartClosedNotifier, type ClosedCartNotice } from './notifier';

const event = (cartId: string, version: number, type: string, data: Record<string, unknown> = {}): EventEnvelope => ({
  eventId: `${cartId}-${version}`,
  aggregateType: 'Cart',
  aggregateId: cartId,
  version,
  type,
  schemaVersion: 1,
  occurredAt: '2026-01-01T00:00:00.000Z',
  data,
});

let sequence = 0;
const kinesisEvent = (envelopes: EventEnvelope[]): KinesisStreamEvent => ({
  Records: envelopes.map((envelope) => ({
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: envelope.aggregateId,
      sequenceNumber: String(++sequence),
      data: Buffer.from(JSON.stringify(envelope)).toString('base64'),
      approximateArrivalTimestamp: 0,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `shardId-0:${sequence}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: 'arn',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/cart-events',
  })),
});

describe('example: a third-party consumer on the sequencer', () => {
  it('sends one notice per closed cart, with the right total, from duplicated and reordered deliveries', async () => {
    const history = [event('c1', 1, 'CartOpened'), event('c1', 2, 'ItemAdded', { sku: 'A', quantity: 3 }), event('c1', 3, 'ItemRemoved', { sku: 'A', quantity: 1 }), event('c1', 4, 'CartClosed')];
    const store = new InMemoryEventStore();
    await store.appendToStream('c1', 0, history);
    const notices: ClosedCartNotice[] = [];
    const handler = cartClosedNotifier({ positions: new InMemoryPositionStore(), store, send: (notice) => void notices.push(notice) });

    // Out of order and duplicated, as Kinesis may deliver on AWS; the same batch redelivered after a timeout.
    const scrambled = kinesisEvent([history[3]!, history[1]!, history[3]!]);
    expect(await handler(scrambled)).toEqual({ batchItemFailures: [] });
    expect(await handler(scrambled)).toEqual({ batchItemFailures: [] });
    expect(await handler(kinesisEvent(history))).toEqual({ batchItemFailures: [] });

    expect(notices).toEqual([{ noticeId: 'c1-4', cartId: 'c1', totalQuantity: 2 }]);
  });

  it('a notice whose send failed is sent by the redelivery (never lost), with the same noticeId and total', async () => {
    const history = [event('c2', 1, 'CartOpened'), event('c2', 2, 'ItemAdded', { sku: 'A', quantity: 4 }), event('c2', 3, 'CartClosed')];
    const store = new InMemoryEventStore();
    await store.appendToStream('c2', 0, history);
    const notices: ClosedCartNotice[] = [];
    let failures = 1;
    const handler = cartClosedNotifier({
      positions: new InMemoryPositionStore(),
      store,
      send: (notice) => {
        if (failures-- > 0) throw new Error('mail relay unavailable');
        notices.push(notice);
      },
    });
    const batch = kinesisEvent([history[2]!]);
    expect((await handler(batch)).batchItemFailures).toHaveLength(1);
    expect(await handler(batch)).toEqual({ batchItemFailures: [] });
    expect(await handler(batch)).toEqual({ batchItemFailures: [] });
    expect(notices).toEqual([{ noticeId: 'c2-3', cartId: 'c2', totalQuantity: 4 }]);
  });
});
