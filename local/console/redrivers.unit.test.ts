import { GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { StoredDeadLetter } from '../../application/dead-letter-redrive';
import type { KinesisStreamTail } from '../../adapters/kinesis/stream-tail';
import { loadLocalConfig } from '../config';
import { batchDeadLetter } from '../on-failure-record';
import { localRedrivers } from './redrivers';

const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:000000000000:table/events/stream/2026-01-01T00:00:00.000';

/** A Pipe batch letter, made by the Pipe runner's own function: records 100 to 104 of one shard. */
const letter: StoredDeadLetter = {
  id: 'p1',
  ...batchDeadLetter({
    source: 'pipe',
    reason: 'enrichment failed',
    condition: 'RetryAttemptsExhausted',
    approximateInvokeCount: 11,
    stream: 'dynamodb',
    batch: { shardId: 'shardId-1', startSequenceNumber: '100', endSequenceNumber: '104', batchSize: 5, streamArn: STREAM_ARN },
  }),
};

/** A stream that answers GetShardIterator with `iterator` (or its error) and GetRecords with one page of `records`. */
function fakeStreams(options: { iteratorError?: string; records?: _Record[] }): DynamoDBStreamsClient {
  const send = jest.fn(async (command: unknown) => {
    if (command instanceof GetShardIteratorCommand) {
      if (options.iteratorError) throw Object.assign(new Error('gone'), { name: options.iteratorError });
      return { ShardIterator: 'it-1' };
    }
    if (command instanceof GetRecordsCommand) return { Records: options.records ?? [] };
    throw new Error(`unexpected command ${(command as object).constructor.name}`);
  });
  return { send } as unknown as DynamoDBStreamsClient;
}

function redrive(streams: DynamoDBStreamsClient) {
  const kinesis = { send: jest.fn(async () => ({ Records: [], FailedRecordCount: 0 })) };
  const redrivers = localRedrivers(loadLocalConfig({}), kinesis as unknown as KinesisClient, {} as KinesisStreamTail, streams);
  return { run: redrivers['pipe-batch'](letter), kinesis };
}

describe("the Pipe batch letter's redriver", () => {
  it.each(['TrimmedDataAccessException', 'ResourceNotFoundException'])('fails, telling the operator to backfill or replay, when the stream answers %s', async (error) => {
    const { run, kinesis } = redrive(fakeStreams({ iteratorError: error }));
    await expect(run).rejects.toThrow(new RegExp(`no longer holds this batch \\(shard shardId-1, sequence numbers 100 to 104: ${error}\\).*npm run backfill.*replay`));
    expect(kinesis.send).not.toHaveBeenCalled();
  });

  it('fails the same way when the stream holds fewer records of the range than the batch had', async () => {
    const records = ['103', '104'].map((SequenceNumber) => ({ eventName: 'INSERT', dynamodb: { SequenceNumber } }) as _Record);
    const { run, kinesis } = redrive(fakeStreams({ records }));
    await expect(run).rejects.toThrow(/holds only 2 of the batch's 5 record\(s\).*npm run backfill/);
    expect(kinesis.send).not.toHaveBeenCalled();
  });

  it('refuses a letter whose batch info is incomplete', async () => {
    const broken = { ...letter, payload: { DDBStreamBatchInfo: { shardId: 'shardId-1' } } };
    const redrivers = localRedrivers(loadLocalConfig({}), {} as KinesisClient, {} as KinesisStreamTail, fakeStreams({}));
    await expect(redrivers['pipe-batch'](broken)).rejects.toThrow(/DDBStreamBatchInfo is incomplete/);
  });
});
