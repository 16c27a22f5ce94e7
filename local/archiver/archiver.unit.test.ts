import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { _Record } from '@aws-sdk/client-kinesis';
import { LocalArchiver, type ArchiverPorts } from './archiver';

/** Two in-memory shards, readable from after any sequence number, like Kinesis. */
function fakeStream() {
  const shards: Record<string, _Record[]> = { 'shardId-0': [], 'shardId-1': [] };
  let seq = 1000;
  const put = (envelope: object, shard = 'shardId-0') =>
    shards[shard]!.push({ SequenceNumber: String(seq++), PartitionKey: 'p', Data: Buffer.from(JSON.stringify(envelope)), ApproximateArrivalTimestamp: new Date() });
  return { shards, put };
}

function ports(stream: ReturnType<typeof fakeStream>, objects: Map<string, string>, failPut: () => 'store-then-crash' | 'crash' | 'ok' = () => 'ok'): ArchiverPorts {
  return {
    listShards: async () => Object.keys(stream.shards).map((ShardId) => ({ ShardId, HashKeyRange: undefined, SequenceNumberRange: undefined })),
    openShard: (shardId, after) => {
      let position = after === undefined ? 0 : stream.shards[shardId]!.findIndex((r) => r.SequenceNumber === after) + 1;
      return {
        read: async (limit: number) => {
          const records = stream.shards[shardId]!.slice(position, position + limit);
          position += records.length;
          return { records, closed: false };
        },
      };
    },
    putObject: async (key, body) => {
      const mode = failPut();
      if (mode === 'crash') throw new Error('crash before the write');
      objects.set(key, body);
      if (mode === 'store-then-crash') throw new Error('crash after the write, before the checkpoint');
    },
    deadLetter: async () => undefined,
  };
}

const envelope = (n: number, extra: Record<string, unknown> = {}) => ({
  eventId: `event-${n}`,
  aggregateType: 'Cart',
  aggregateId: `cart-${n % 3}`,
  version: n + 1,
  type: 'CartOpened',
  schemaVersion: 1,
  occurredAt: '2026-01-01T10:00:00.000Z',
  data: {},
  ...extra,
});

function archivedEventIds(objects: Map<string, string>): string[] {
  return [...objects.values()].flatMap((body) => body.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { eventId: string }).eventId));
}

describe('local archiver', () => {
  let stateDir: string;
  beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'archiver-test-'))));
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));
  const options = () => ({ stateDir, flushIntervalMs: 0, maxBufferBytes: 1024 * 1024, now: () => Date.parse('2026-03-04T05:06:07Z') });

  it('writes JSON Lines objects under events/YYYY/MM/DD/HH/ and skips replayed copies and re-sent duplicates', async () => {
    const stream = fakeStream();
    const objects = new Map<string, string>();
    stream.put(envelope(1));
    stream.put(envelope(2), 'shardId-1');
    stream.put(envelope(1)); // re-sent by the Pipe
    stream.put(envelope(3, { metadata: { replayed: true } }));
    const archiver = new LocalArchiver(ports(stream, objects), options());
    await archiver.start();
    await archiver.stop();
    const [key] = [...objects.keys()];
    expect(key).toMatch(/^events\/2026\/03\/04\/05\/cart-events-2026-03-04-05-06-07-[0-9a-f]{16}\.jsonl$/);
    expect(objects.get(key!)!.endsWith('\n')).toBe(true);
    expect(archivedEventIds(objects).sort()).toEqual(['event-1', 'event-2']);
  });

  it.each(['store-then-crash', 'crash'] as const)('after a %s mid-object, a restart archives every event exactly once', async (mode) => {
    const stream = fakeStream();
    const objects = new Map<string, string>();
    for (let n = 0; n < 10; n++) stream.put(envelope(n), n % 2 ? 'shardId-1' : 'shardId-0');
    let puts = 0;
    const crashing = new LocalArchiver(ports(stream, objects, () => (++puts === 1 ? mode : 'ok')), options());
    await crashing.open();
    await expect(crashing.poll()).rejects.toThrow(/crash/); // the process dies here: nothing after runs
    for (let n = 10; n < 15; n++) stream.put(envelope(n));

    const restarted = new LocalArchiver(ports(stream, objects), options());
    await restarted.start();
    await restarted.stop();
    const ids = archivedEventIds(objects);
    expect(ids.sort()).toEqual(Array.from({ length: 15 }, (_, n) => `event-${n}`).sort());
    expect(new Set(ids).size).toBe(ids.length);
  });
});
