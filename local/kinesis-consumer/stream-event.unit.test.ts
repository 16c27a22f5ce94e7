import { KinesisDataStreamSchema } from '@aws-lambda-powertools/parser/schemas/kinesis';
import { toKinesisStreamEvent } from './stream-event';

describe('the Kinesis event the local mapping hands a handler', () => {
  it('has the shape of the event AWS Lambda sends for Kinesis (Powertools parser schema)', () => {
    const envelope = { eventId: 'e1', aggregateId: 'cart-1' };
    const event = toKinesisStreamEvent(
      [{ SequenceNumber: '4968', PartitionKey: 'cart-1', Data: Buffer.from(JSON.stringify(envelope)), ApproximateArrivalTimestamp: new Date(1_700_000_000_123) }],
      { streamArn: 'arn:aws:kinesis:us-east-1:000000000000:stream/cart-events', shardId: 'shardId-000000000001', region: 'us-east-1' },
    );
    const parsed = KinesisDataStreamSchema.parse(event);
    expect(parsed.Records[0]!.kinesis.data).toEqual(envelope);
    expect(event.Records[0]).toMatchObject({
      eventID: 'shardId-000000000001:4968',
      eventSource: 'aws:kinesis',
      eventName: 'aws:kinesis:record',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/cart-events',
      kinesis: { partitionKey: 'cart-1', sequenceNumber: '4968', kinesisSchemaVersion: '1.0', approximateArrivalTimestamp: 1_700_000_000.123 },
    });
  });
});
