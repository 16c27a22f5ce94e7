import { GetRecordsCommand, GetShardIteratorCommand, type GetRecordsCommandOutput, type KinesisClient, type _Record } from '@aws-sdk/client-kinesis';
import { KinesisStreamTail } from './stream-tail';

const record = (sequenceNumber: string): _Record => ({ SequenceNumber: sequenceNumber, Data: new Uint8Array(), PartitionKey: 'cart' });

/** A Kinesis client that answers GetRecords with the given pages, in order, as a real shard may. */
function scriptedKinesis(pages: Partial<GetRecordsCommandOutput>[]): { client: KinesisClient; calls: () => number } {
  let calls = 0;
  const client = {
    send: async (command: unknown) => {
      if (command instanceof GetShardIteratorCommand) return { ShardIterator: 'iterator-0' };
      if (command instanceof GetRecordsCommand) {
        const page = pages[calls++];
        if (!page) throw new Error('read past the scripted pages');
        return { Records: [], NextShardIterator: `iterator-${calls}`, ...page };
      }
      throw new Error(`unexpected command ${(command as object).constructor.name}`);
    },
  } as unknown as KinesisClient;
  return { client, calls: () => calls };
}

describe('KinesisStreamTail.recordsBetween (a dead letter\'s shard range, read back for a redrive)', () => {
  it('reads on through empty pages behind the tip, as GetRecords may answer them, and stops after the range', async () => {
    const { client } = scriptedKinesis([
      { MillisBehindLatest: 86_400_000 },
      { MillisBehindLatest: 3_600_000 },
      { Records: [record('10'), record('11')], MillisBehindLatest: 60_000 },
      { Records: [record('12'), record('13')], MillisBehindLatest: 0 },
    ]);
    const records = await new KinesisStreamTail(client, 'events').recordsBetween('shard-0', '10', '12', 0);
    expect(records.map((r) => r.SequenceNumber)).toEqual(['10', '11', '12']);
  });

  it('stops at an empty page at the tip (nothing more has arrived) and on a closed shard', async () => {
    const atTip = scriptedKinesis([{ Records: [record('10')], MillisBehindLatest: 5_000 }, { MillisBehindLatest: 0 }]);
    expect((await new KinesisStreamTail(atTip.client, 'events').recordsBetween('shard-0', '10', '20', 0)).map((r) => r.SequenceNumber)).toEqual(['10']);
    expect(atTip.calls()).toBe(2);

    const closed = scriptedKinesis([{ Records: [record('10')], NextShardIterator: undefined, MillisBehindLatest: 1_000 }]);
    expect((await new KinesisStreamTail(closed.client, 'events').recordsBetween('shard-0', '10', '20', 0)).map((r) => r.SequenceNumber)).toEqual(['10']);
    expect(closed.calls()).toBe(1);
  });
});
