import type { _Record } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';

export interface StreamIdentity {
  readonly streamArn: string;
  readonly shardId: string;
  readonly region: string;
}

/** The event a Lambda event source mapping hands a function for these Kinesis records, field for field. */
export function toKinesisStreamEvent(records: readonly _Record[], identity: StreamIdentity): KinesisStreamEvent {
  return { Records: records.map((record) => toStreamRecord(record, identity)) };
}

function toStreamRecord(record: _Record, identity: StreamIdentity): KinesisStreamRecord {
  const accountId = identity.streamArn.split(':')[4] ?? '000000000000';
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.PartitionKey ?? '',
      sequenceNumber: record.SequenceNumber ?? '',
      data: Buffer.from(record.Data ?? new Uint8Array()).toString('base64'),
      approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp?.getTime() ?? Date.now()) / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${identity.shardId}:${record.SequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: `arn:aws:iam::${accountId}:role/local-event-source-mapping`,
    awsRegion: identity.region,
    eventSourceARN: identity.streamArn,
  };
}
