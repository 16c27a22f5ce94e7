import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { DeadLetter } from '../../application/dead-letters';
import type { EventEnvelope } from '../../domain/events';
import { createEnrichment } from '../../lambdas/cdc-enrichment/enrich';
import { cdcPipeSettings, type CdcPipeSettings } from '../../lambdas/cdc-enrichment/pipe-settings';
import { cartHistory, StreamRecordFactory, type StreamRecordJson } from '../../test/support/cdc-stream-records';
import { compileFilters } from './event-pattern';
import { LocalPipe } from './local-pipe';
import { PositionStore } from './positions';

const STREAM = 'arn:aws:dynamodb:ddblocal:000000000000:table/cart-events/stream/x';

interface FakeShard {
  readonly id: string;
  readonly parent?: string;
  readonly records: _Record[];
  closed: boolean;
}

/** DynamoDB Streams as the Pipe sees it: shards listed in the given order, iterators as positions. */
function fakeStreams(shards: FakeShard[]) {
  const send = async (command: unknown) => {
    if (command instanceof DescribeStreamCommand) {
      return { StreamDescription: { Shards: shards.map((s) => ({ ShardId: s.id, ...(s.parent ? { ParentShardId: s.parent } : {}) })) } };
    }
    if (command instanceof GetShardIteratorCommand) {
      const shard = shards.find((s) => s.id === command.input.ShardId)!;
      const after = command.input.SequenceNumber;
      const index = after ? shard.records.findIndex((r) => r.dynamodb!.SequenceNumber === after) + 1 : 0;
      return { ShardIterator: `${shard.id}|${index}` };
    }
    if (command instanceof GetRecordsCommand) {
      const [id, at] = command.input.ShardIterator!.split('|');
      const shard = shards.find((s) => s.id === id)!;
      const index = Number(at);
      const records = shard.records.slice(index, index + 3);
      const next = index + records.length;
      return { Records: records, NextShardIterator: shard.closed && next >= shard.records.length ? undefined : `${id}|${next}` };
    }
    throw new Error(`unexpected command ${String(command)}`);
  };
  return { send } as unknown as DynamoDBStreamsClient;
}

/** SDK-shaped records (Date for ApproximateCreationDateTime), as GetRecords returns them. */
function sdkRecords(records: StreamRecordJson[]): _Record[] {
  return records.map((record) => ({ ...record, dynamodb: { ...record.dynamodb, ApproximateCreationDateTime: new Date() } }) as unknown as _Record);
}

function fastSettings(overrides: Partial<CdcPipeSettings['source']> = {}): CdcPipeSettings {
  const settings = cdcPipeSettings('event-per-item');
  return { ...settings, source: { ...settings.source, BatchSize: 4, MaximumBatchingWindowInSeconds: 0, MaximumRetryAttempts: 2, ...overrides } };
}

async function eventually(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('LocalPipe', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'local-pipe-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function pipeWith(shards: FakeShard[], options: { settings?: CdcPipeSettings; enrich?: (records: unknown[]) => Promise<EventEnvelope[]>; failPublish?: () => boolean } = {}) {
    const published: EventEnvelope[] = [];
    const letters: DeadLetter[] = [];
    const deadLetters = { send: async (sent: readonly DeadLetter[]) => void letters.push(...sent) };
    const positions = new PositionStore(join(dir, 'positions.json'));
    const enrich = options.enrich ?? createEnrichment({ layout: 'event-per-item', deadLetters });
    const pipe = new LocalPipe({
      streams: fakeStreams(shards),
      streamArn: STREAM,
      settings: options.settings ?? fastSettings(),
      enrich,
      publisher: {
        publish: async (envelopes) => {
          if (options.failPublish?.()) throw new Error('Kinesis is down');
          published.push(...envelopes);
          return { published: envelopes.length, failed: [], calls: 1 };
        },
      },
      deadLetters,
      positions,
      pollIntervalMs: 5,
      discoveryIntervalMs: 10,
      retryBaseDelayMs: 1,
      log: () => undefined,
    });
    return { pipe, published, letters, positions };
  }

  it('reads a parent shard to its end before its child, whatever order the stream lists them in', async () => {
    const history = cartHistory('cart-p', 9);
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(history.map((e) => ({ cartId: 'cart-p', events: [e] }))));
    const shards: FakeShard[] = [
      { id: 'child', parent: 'parent', records: records.slice(5), closed: false },
      { id: 'parent', records: records.slice(0, 5), closed: true },
    ];
    const { pipe, published, positions } = pipeWith(shards);
    pipe.start();
    await eventually(() => published.length === 9);
    await pipe.stop();
    expect(published.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const saved = positions.load(STREAM).shards;
    expect(saved.parent).toMatchObject({ finished: true, sequenceNumber: records[4]!.dynamodb!.SequenceNumber });
    expect(saved.child!.sequenceNumber).toBe(records[8]!.dynamodb!.SequenceNumber);
  });

  it('passes only records that match the filter criteria to the enrichment', async () => {
    const factory = new StreamRecordFactory();
    const [insert] = factory.eventPerItem([{ cartId: 'cart-f', events: cartHistory('cart-f', 1) }]);
    const remove = { ...insert!, eventName: 'REMOVE' as const, dynamodb: { ...insert!.dynamodb, SequenceNumber: '999999999999999999999999', OldImage: insert!.dynamodb.NewImage, NewImage: undefined } };
    const seen: unknown[] = [];
    const inner = createEnrichment({ layout: 'event-per-item', deadLetters: { send: async () => undefined } });
    const { pipe, published } = pipeWith([{ id: 's', records: sdkRecords([insert!, remove]), closed: true }], {
      enrich: async (records) => {
        seen.push(...records);
        return inner(records);
      },
    });
    pipe.start();
    await eventually(() => published.length === 1);
    await pipe.stop();
    expect(seen.map((r) => (r as { eventName: string }).eventName)).toEqual(['INSERT']);
    expect(compileFilters(cdcPipeSettings('aggregate-item').filterPatterns)({ eventName: 'MODIFY' })).toBe(true);
    expect(() => compileFilters([{ eventName: [{ prefix: 'IN' }] }])).toThrow(/exact values only/);
  });

  it('retries a failing enrichment in halves and dead-letters only the record that keeps failing', async () => {
    const history = cartHistory('cart-b', 4);
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(history.map((e) => ({ cartId: 'cart-b', events: [e] }))));
    const poison = records[2]!.eventID;
    const inner = createEnrichment({ layout: 'event-per-item', deadLetters: { send: async () => undefined } });
    const { pipe, published, letters } = pipeWith([{ id: 's', records, closed: true }], {
      enrich: async (batch) => {
        if (batch.some((r) => (r as { eventID: string }).eventID === poison)) throw new Error('enrichment timed out');
        return inner(batch);
      },
    });
    pipe.start();
    await eventually(() => letters.length === 1 && published.length === 3);
    await pipe.stop();
    expect(published.map((e) => e.version)).toEqual([1, 2, 4]);
    expect(letters[0]).toMatchObject({ source: 'pipe', ids: { eventID: poison }, reason: expect.stringContaining('enrichment timed out') });
  });

  it('checkpoints only what reached Kinesis: a restart re-delivers the rest and loses nothing', async () => {
    const history = cartHistory('cart-r', 8);
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(history.map((e) => ({ cartId: 'cart-r', events: [e] }))));
    const shard: FakeShard = { id: 's', records, closed: false };
    let down = false;
    const first = pipeWith([shard], { failPublish: () => down });
    first.pipe.start();
    await eventually(() => first.published.length === 8);
    down = true;
    const more = sdkRecords(new StreamRecordFactory().eventPerItem(cartHistory('cart-s', 3).map((e) => ({ cartId: 'cart-s', events: [e] }))));
    more.forEach((r, i) => (r.dynamodb!.SequenceNumber = `9${String(i).padStart(23, '0')}`));
    shard.records.push(...more);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await first.pipe.stop();
    expect(first.published.filter((e) => e.aggregateId === 'cart-s')).toEqual([]);

    const second = pipeWith([shard]);
    second.pipe.start();
    await eventually(() => second.published.length >= 3);
    await second.pipe.stop();
    expect(second.published.map((e) => `${e.aggregateId}/${e.version}`)).toEqual(['cart-s/1', 'cart-s/2', 'cart-s/3']);
  });
});
