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
function fakeStreams(shards: FakeShard[], faults: { trimmedOnce?: boolean } = {}) {
  let trimmed = faults.trimmedOnce ?? false;
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
      if (trimmed && Number(at) > 0) {
        // The records after the iterator were trimmed (24 h retention) while the Pipe held it.
        trimmed = false;
        throw Object.assign(new Error('records past the iterator are trimmed'), { name: 'TrimmedDataAccessException' });
      }
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

  function pipeWith(
    shards: FakeShard[],
    options: {
      settings?: CdcPipeSettings;
      enrich?: (records: unknown[]) => Promise<EventEnvelope[]>;
      /** Kinesis refuses this envelope in this call (1-based) of the target. */
      refuse?: (envelope: EventEnvelope, call: number) => boolean;
      now?: () => number;
      streams?: DynamoDBStreamsClient;
    } = {},
  ) {
    const published: EventEnvelope[] = [];
    let calls = 0;
    const letters: DeadLetter[] = [];
    const deadLetters = { send: async (sent: readonly DeadLetter[]) => void letters.push(...sent) };
    const positions = new PositionStore(join(dir, 'positions.json'));
    const enrich = options.enrich ?? createEnrichment({ layout: 'event-per-item', deadLetters });
    const pipe = new LocalPipe({
      streams: options.streams ?? fakeStreams(shards),
      streamArn: STREAM,
      settings: options.settings ?? fastSettings(),
      enrich,
      target: async (envelopes) => {
        calls += 1;
        const refused = envelopes.filter((envelope) => options.refuse?.(envelope, calls));
        published.push(...envelopes.filter((envelope) => !refused.includes(envelope)));
        return refused.length > 0 ? { refused: refused.length, reason: 'ProvisionedThroughputExceededException' } : { refused: 0 };
      },
      deadLetters,
      positions,
      pollIntervalMs: 5,
      discoveryIntervalMs: 10,
      retryBaseDelayMs: 1,
      log: () => undefined,
      ...(options.now ? { now: options.now } : {}),
    });
    return { pipe, published, letters, positions, targetCalls: () => calls };
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

  it('retries a failing enrichment with the whole batch, no halving, then dead-letters the batch as metadata', async () => {
    const history = cartHistory('cart-b', 3);
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(history.map((e) => ({ cartId: 'cart-b', events: [e] }))));
    const batches: number[] = [];
    const { pipe, published, letters } = pipeWith([{ id: 's', records, closed: true }], {
      enrich: async (batch) => {
        batches.push(batch.length);
        throw new Error('enrichment timed out');
      },
    });
    pipe.start();
    await eventually(() => letters.length === 1);
    await pipe.stop();
    // MaximumRetryAttempts 2: three invocations, each with the whole batch of 3
    expect(batches).toEqual([3, 3, 3]);
    expect(published).toEqual([]);
    expect(letters[0]).toMatchObject({
      source: 'pipe',
      reason: expect.stringContaining('enrichment timed out'),
      ids: { shardId: 's', startSequenceNumber: records[0]!.dynamodb!.SequenceNumber, endSequenceNumber: records[2]!.dynamodb!.SequenceNumber, batchSize: 3, streamArn: STREAM },
      payload: { requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3 }, DDBStreamBatchInfo: { shardId: 's', batchSize: 3 } },
    });
    // metadata, not the records
    expect(JSON.stringify(letters[0]!.payload)).not.toContain('NewImage');
  });

  it('retries a partly refused Kinesis batch through the whole pipe: the enrichment runs again, stored records are stored again', async () => {
    const history = cartHistory('cart-k', 3);
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(history.map((e) => ({ cartId: 'cart-k', events: [e] }))));
    let enrichments = 0;
    const inner = createEnrichment({ layout: 'event-per-item', deadLetters: { send: async () => undefined } });
    const { pipe, published, letters } = pipeWith([{ id: 's', records, closed: true }], {
      enrich: async (batch) => {
        enrichments++;
        return inner(batch);
      },
      refuse: (envelope, call) => call === 1 && envelope.version === 2,
    });
    pipe.start();
    await eventually(() => published.length === 5);
    await pipe.stop();
    expect(enrichments).toBe(2);
    // 1 and 3 stored by the first call; the retry stores the whole response again: version 2 after 3
    expect(published.map((e) => e.version)).toEqual([1, 3, 1, 2, 3]);
    expect(letters).toEqual([]);
  });

  it('does not invoke the Kinesis target with more than 500 elements, and dead-letters the batch after the retries', async () => {
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(cartHistory('cart-l', 2).map((e) => ({ cartId: 'cart-l', events: [e] }))));
    const many = Array.from({ length: 501 }, (_, i) => ({ ...cartHistory('cart-l', 1)[0]!, version: i + 1 })) as unknown as EventEnvelope[];
    const { pipe, letters, targetCalls } = pipeWith([{ id: 's', records, closed: true }], { enrich: async () => many });
    pipe.start();
    await eventually(() => letters.length === 1);
    await pipe.stop();
    expect(targetCalls()).toBe(0);
    expect(letters[0]!.reason).toMatch(/at most 500/);
  });

  it('sends records older than MaximumRecordAgeInSeconds to the dead-letter queue as batch metadata, unenriched', async () => {
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(cartHistory('cart-o', 3).map((e) => ({ cartId: 'cart-o', events: [e] }))));
    const enriched: unknown[] = [];
    const settings = fastSettings({ MaximumRecordAgeInSeconds: 60 });
    const { pipe, published, letters, positions } = pipeWith([{ id: 's', records, closed: true }], {
      settings,
      now: () => Date.now() + 61_000,
      enrich: async (batch) => {
        enriched.push(...batch);
        return [];
      },
    });
    pipe.start();
    await eventually(() => letters.length === 1);
    await eventually(() => positions.load(STREAM).shards.s?.finished === true);
    await pipe.stop();
    expect(enriched).toEqual([]);
    expect(published).toEqual([]);
    expect(letters[0]).toMatchObject({ ids: { batchSize: 3, endSequenceNumber: records[2]!.dynamodb!.SequenceNumber }, payload: { requestContext: { condition: 'RecordAgeExceeded' } } });
  });

  it('a batch that keeps failing goes to the dead-letter queue once it is older than MaximumRecordAgeInSeconds', async () => {
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(cartHistory('cart-a', 2).map((e) => ({ cartId: 'cart-a', events: [e] }))));
    let clock = Date.now();
    const { pipe, letters, targetCalls } = pipeWith([{ id: 's', records, closed: true }], {
      settings: fastSettings({ MaximumRecordAgeInSeconds: 60, MaximumRetryAttempts: 1_000 }),
      now: () => clock,
      refuse: () => {
        clock += 20_000; // each attempt takes 20 s of the record's age
        return true;
      },
    });
    pipe.start();
    await eventually(() => letters.length === 1);
    await pipe.stop();
    expect(targetCalls()).toBeLessThanOrEqual(4);
    expect(letters[0]!.payload).toMatchObject({ requestContext: { condition: 'RecordAgeExceeded' } });
  });

  it('reads from the oldest record again after TrimmedDataAccessException, losing nothing still in the stream', async () => {
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(cartHistory('cart-t', 5).map((e) => ({ cartId: 'cart-t', events: [e] }))));
    const shards: FakeShard[] = [{ id: 's', records, closed: true }];
    const { pipe, published } = pipeWith(shards, { streams: fakeStreams(shards, { trimmedOnce: true }) });
    pipe.start();
    await eventually(() => new Set(published.map((e) => e.version)).size === 5);
    await pipe.stop();
    expect([...new Set(published.map((e) => e.version))].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('checkpoints only what reached Kinesis: a restart re-delivers the rest and loses nothing', async () => {
    const history = cartHistory('cart-r', 8);
    const records = sdkRecords(new StreamRecordFactory().eventPerItem(history.map((e) => ({ cartId: 'cart-r', events: [e] }))));
    const shard: FakeShard = { id: 's', records, closed: false };
    let down = false;
    let refusedCalls = 0;
    const first = pipeWith([shard], {
      settings: fastSettings({ MaximumRetryAttempts: 1_000 }),
      refuse: () => {
        if (down) refusedCalls++;
        return down;
      },
    });
    first.pipe.start();
    await eventually(() => first.published.length === 8);
    down = true;
    const more = sdkRecords(new StreamRecordFactory().eventPerItem(cartHistory('cart-s', 3).map((e) => ({ cartId: 'cart-s', events: [e] }))));
    more.forEach((r, i) => (r.dynamodb!.SequenceNumber = `9${String(i).padStart(23, '0')}`));
    shard.records.push(...more);
    // Kinesis refused the new records at least twice (a first try and a retry through the pipe) before the stop.
    await eventually(() => refusedCalls >= 2);
    await first.pipe.stop();
    expect(first.published.filter((e) => e.aggregateId === 'cart-s')).toEqual([]);

    const second = pipeWith([shard]);
    second.pipe.start();
    await eventually(() => second.published.length >= 3);
    await second.pipe.stop();
    expect(second.published.map((e) => `${e.aggregateId}/${e.version}`)).toEqual(['cart-s/1', 'cart-s/2', 'cart-s/3']);
  });
});
