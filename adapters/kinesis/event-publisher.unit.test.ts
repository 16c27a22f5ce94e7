import fc from 'fast-check';
import type { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { EventEnvelope } from '../../domain/events/envelope';
import { KinesisEventPublisher } from './event-publisher';

function envelopes(carts: number, perCart: number): EventEnvelope[] {
  const all: EventEnvelope[] = [];
  for (let version = 1; version <= perCart; version++) {
    for (let cart = 0; cart < carts; cart++) {
      all.push({ eventId: `c${cart}-v${version}`, aggregateType: 'Cart', aggregateId: `c${cart}`, version, type: 'ItemAdded', schemaVersion: 1, occurredAt: '2026-01-01T00:00:00.000Z', data: {} });
    }
  }
  return all;
}

/** A Kinesis stand-in that stores what it accepts and fails the records `fails` picks. */
function fakeKinesis(fails: (call: number, index: number) => 'ok' | 'throttle' | 'internal' | 'call') {
  const stored: EventEnvelope[] = [];
  const calls: number[] = [];
  let call = 0;
  const client = {
    send: async (command: PutRecordsCommand) => {
      const records = command.input.Records!;
      call += 1;
      calls.push(records.length);
      if (fails(call, -1) === 'call') throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return {
        Records: records.map((record, index) => {
          const outcome = fails(call, index);
          if (outcome === 'throttle') return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' };
          if (outcome === 'internal') return { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' };
          stored.push(JSON.parse(Buffer.from(record.Data!).toString('utf8')) as EventEnvelope);
          return { SequenceNumber: String(stored.length), ShardId: 'shardId-0' };
        }),
      };
    },
  } as unknown as KinesisClient;
  return { client, stored, calls };
}

const noSleep = async () => undefined;

describe('KinesisEventPublisher', () => {
  it('publishes one record per envelope, in one call when every cart has one event', async () => {
    const kinesis = fakeKinesis(() => 'ok');
    const input = envelopes(7, 1);
    const result = await new KinesisEventPublisher(kinesis.client, 's', { sleep: noSleep }).publish(input);
    expect(result).toEqual({ published: 7, failed: [], calls: 1 });
    expect(kinesis.stored).toEqual(input);
  });

  it('under random partial failures stores every record once, in version order per cart, retrying only failed ones', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.infiniteStream(fc.constantFrom('ok', 'ok', 'throttle', 'internal', 'call' as const)), async (carts, perCart, outcomes) => {
        const iterator = outcomes[Symbol.iterator]();
        const decided = new Map<string, ReturnType<typeof iterator.next>['value']>();
        const kinesis = fakeKinesis((call, index) => {
          const key = `${call}/${index}`;
          if (!decided.has(key)) decided.set(key, iterator.next().value);
          const outcome = decided.get(key)!;
          return index === -1 ? (outcome === 'call' ? 'call' : 'ok') : outcome === 'call' ? 'ok' : outcome;
        });
        const input = envelopes(carts, perCart);
        const result = await new KinesisEventPublisher(kinesis.client, 's', { sleep: noSleep, maxAttempts: 1_000 }).publish(input);
        expect(result.failed).toEqual([]);
        expect(result.published).toBe(input.length);
        expect(kinesis.stored).toHaveLength(input.length);
        for (let cart = 0; cart < carts; cart++) {
          expect(kinesis.stored.filter((e) => e.aggregateId === `c${cart}`).map((e) => e.version)).toEqual([...Array(perCart).keys()].map((v) => v + 1));
        }
      }),
      { numRuns: 80 },
    );
  }, 30_000);

  it('gives up a record after its attempts, hands it back with the reason, and publishes the rest of its cart behind it', async () => {
    const kinesis = fakeKinesis((call, index) => (index !== -1 && call <= 3 && index === 0 ? 'internal' : 'ok'));
    const input = envelopes(2, 2);
    const result = await new KinesisEventPublisher(kinesis.client, 's', { sleep: noSleep, maxAttempts: 3 }).publish(input);
    expect(result.failed).toEqual([{ envelope: input[0], attempts: 3, reason: 'PutRecords failed 3 times: InternalFailure: oops' }]);
    expect(kinesis.stored.map((e) => e.eventId)).toEqual(['c1-v1', 'c1-v2', 'c0-v2']);
  });

  it('backs off while throttled and stops waiting when aborted, without storing anything more', async () => {
    const kinesis = fakeKinesis((_call, index) => (index === -1 ? 'ok' : 'throttle'));
    const delays: number[] = [];
    const controller = new AbortController();
    const publisher = new KinesisEventPublisher(kinesis.client, 's', {
      baseDelayMs: 100,
      maxDelayMs: 400,
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === 5) controller.abort(new Error('stopping'));
      },
    });
    await expect(publisher.publish(envelopes(1, 1), controller.signal)).rejects.toThrow('stopping');
    expect(delays.every((d, i) => d >= 0 && d <= Math.min(400, 100 * 2 ** i))).toBe(true);
    expect(kinesis.stored).toEqual([]);
  });
});
