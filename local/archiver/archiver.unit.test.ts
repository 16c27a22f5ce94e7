import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { _Record } from '@aws-sdk/client-kinesis';
import { Chaos } from '../chaos/chaos';
import { LocalArchiver, type ArchiverPorts } from './archiver';

/** Two in-memory shards, readable from after any sequence number, like Kinesis. */
function fakeStream() {
  const shards: Record<string, _Record[]> = { 'shardId-0': [], 'shardId-1': [] };
  let seq = 1000;
  const put = (envelope: object | string, shard = 'shardId-0', arrival = new Date()) =>
    shards[shard]!.push({
      SequenceNumber: String(seq++),
      PartitionKey: 'p',
      Data: Buffer.from(typeof envelope === 'string' ? envelope : JSON.stringify(envelope)),
      ApproximateArrivalTimestamp: arrival,
    });
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

function archivedLines(objects: Map<string, string>): string[] {
  return [...objects.values()].flatMap((body) => body.split('\n').filter(Boolean));
}

function archivedEventIds(objects: Map<string, string>): string[] {
  return archivedLines(objects).map((line) => (JSON.parse(line) as { eventId: string }).eventId);
}

describe('local archiver', () => {
  let stateDir: string;
  beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'archiver-test-'))));
  afterEach(() => rmSync(stateDir, { recursive: true, force: true }));
  const options = () => ({ stateDir, flushIntervalMs: 0, maxBufferBytes: 1024 * 1024, now: () => Date.parse('2026-03-04T05:06:07Z') });

  it('archives like Firehose: every record as it is, re-sent duplicates, replayed copies and junk lines included', async () => {
    const stream = fakeStream();
    const objects = new Map<string, string>();
    stream.put(envelope(1));
    stream.put(envelope(2), 'shardId-1');
    stream.put(envelope(1)); // re-sent by the Pipe
    stream.put(envelope(3, { metadata: { replayed: true } }));
    stream.put('not json');
    stream.put({ hello: 'world' });
    const archiver = new LocalArchiver(ports(stream, objects), options());
    await archiver.start();
    await archiver.stop();
    expect(objects.size).toBe(1);
    const [body] = [...objects.values()];
    expect(body!.endsWith('\n')).toBe(true);
    const lines = archivedLines(objects);
    expect(lines).toHaveLength(6);
    expect(lines).toEqual(expect.arrayContaining(['not json', '{"hello":"world"}']));
    expect(lines.filter((line) => line.includes('"event-1"'))).toHaveLength(2);
    expect(lines.some((line) => line.includes('"replayed":true'))).toBe(true);
  });

  it('keys an object by the UTC hour in which its OLDEST record arrived, not by when it is written', async () => {
    const stream = fakeStream();
    const objects = new Map<string, string>();
    stream.put(envelope(1), 'shardId-0', new Date('2026-03-04T05:59:58Z'));
    stream.put(envelope(2), 'shardId-1', new Date('2026-03-04T06:00:01Z'));
    const archiver = new LocalArchiver(ports(stream, objects), { ...options(), now: () => Date.parse('2026-03-04T06:00:03Z') });
    await archiver.start();
    await archiver.stop();
    const [key] = [...objects.keys()];
    expect(key).toMatch(/^events\/2026\/03\/04\/05\/cart-events-2026-03-04-05-59-58-[0-9a-f]{16}\.jsonl$/);
    expect(archivedEventIds(objects).sort()).toEqual(['event-1', 'event-2']);
  });

  it('injects Firehose faults in chaos mode and counts each one', async () => {
    const stream = fakeStream();
    const objects = new Map<string, string>();
    for (let n = 0; n < 40; n++) stream.put(envelope(n), n % 2 ? 'shardId-1' : 'shardId-0', new Date('2026-03-04T05:10:00Z'));
    const chaos = new Chaos({ 'archive-duplicate': 1, 'archive-replayed-copy': 1, 'archive-junk-line': 1, 'archive-arrival-hour-key': 0.5 });
    const archiver = new LocalArchiver(ports(stream, objects), { ...options(), chaos });
    await archiver.start();
    await archiver.stop();
    const counts = chaos.injected();
    const lines = archivedLines(objects);
    const parsed = lines.map((line) => {
      try {
        return JSON.parse(line) as { eventId?: string; metadata?: { replayed?: boolean } };
      } catch {
        return undefined;
      }
    });
    const ids = parsed.filter((p) => typeof p?.eventId === 'string' && p.eventId.startsWith('event-')).map((p) => p!.eventId!);
    // every record at least once, plus exactly what was injected
    expect(new Set(ids).size).toBe(40);
    expect(parsed.filter((p) => p?.metadata?.replayed === true)).toHaveLength(counts['archive-replayed-copy']);
    expect(ids.length).toBe(40 + counts['archive-duplicate'] + counts['archive-replayed-copy']);
    expect(lines.length - ids.length).toBe(counts['archive-junk-line']);
    expect(counts['archive-junk-line']).toBeGreaterThan(0);
    expect(counts['archive-arrival-hour-key']).toBeGreaterThan(0);
    expect([...objects.keys()].some((key) => key.startsWith('events/2026/03/04/04/'))).toBe(true);
  });

  it.each(['store-then-crash', 'crash'] as const)('after a %s mid-object, a restart archives every event, none lost', async (mode) => {
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
    expect([...new Set(ids)].sort()).toEqual(Array.from({ length: 15 }, (_, n) => `event-${n}`).sort());
  });
});
