import type { EventEnvelope } from '../domain/events';
import { archiveByHour } from './archive-browsing';
import { eventsPerSecond, StreamMarker, type StreamRecordView } from './stream-inspection';

let sequence = 0;
const record = (cart: string, version: number, extra: Partial<EventEnvelope> = {}): StreamRecordView => ({
  shardId: 'shardId-000000000000',
  sequenceNumber: String(++sequence),
  arrivedAt: new Date(0).toISOString(),
  partitionKey: cart,
  envelope: { eventId: `${cart}-${version}`, aggregateType: 'Cart', aggregateId: cart, version, type: 'ItemAdded', schemaVersion: 1, occurredAt: new Date(0).toISOString(), data: {}, ...extra },
});

describe('StreamMarker', () => {
  it('marks a re-published event as a duplicate, and as redelivered once a later event of its cart came first', () => {
    const marker = new StreamMarker();
    const first = record('a', 1);
    expect(marker.mark(first).marks).toEqual([]);
    expect(marker.mark(record('a', 1)).marks).toEqual(['duplicate']);
    expect(marker.mark(record('a', 2)).marks).toEqual([]);
    const again = marker.mark(record('a', 1));
    expect(again.marks).toEqual(['duplicate', 'redelivered']);
    expect(again.firstSeenAt).toBe(first.sequenceNumber);
  });

  it('marks gaps, late first copies, replayed and unreadable records', () => {
    const marker = new StreamMarker();
    marker.mark(record('b', 1));
    expect(marker.mark(record('b', 3)).marks).toEqual(['gap']);
    expect(marker.mark(record('b', 2)).marks).toEqual(['out-of-order']);
    expect(marker.mark(record('c', 5, { metadata: { replayed: true } })).marks).toEqual(['replayed']);
    expect(marker.mark({ shardId: 's', sequenceNumber: '9', arrivedAt: '', partitionKey: 'x', raw: 'not json' }).marks).toEqual(['unreadable']);
  });

  it('forgets the oldest eventIds past its memory', () => {
    const marker = new StreamMarker(2);
    marker.mark(record('d', 1));
    marker.mark(record('e', 1));
    marker.mark(record('f', 1));
    expect(marker.mark(record('d', 1)).marks).not.toContain('duplicate');
  });
});

describe('eventsPerSecond', () => {
  it('counts the arrivals of the window', () => {
    expect(eventsPerSecond([1_000, 5_000, 9_500, 10_000, 11_000], 10_000, 5_000)).toBeCloseTo(2 / 5);
  });
});

describe('archiveByHour', () => {
  it('groups event objects by arrival hour, newest first, with keys outside the layout last', async () => {
    const keys = ['events/2026/11/30/04/b.jsonl', 'events/2026/11/30/05/c.jsonl', 'events/2026/11/30/04/a.jsonl', 'events/stray.jsonl'];
    const archive = {
      async *list() {
        for (const key of keys) yield { key, etag: '"x"', size: 10 };
      },
    };
    const hours = await archiveByHour(archive);
    expect(hours.map((hour) => [hour.prefix, hour.hour, hour.objects.map((o) => o.key), hour.bytes])).toEqual([
      ['events/2026/11/30/05/', '2026-11-30T05:00:00.000Z', ['events/2026/11/30/05/c.jsonl'], 10],
      ['events/2026/11/30/04/', '2026-11-30T04:00:00.000Z', ['events/2026/11/30/04/a.jsonl', 'events/2026/11/30/04/b.jsonl'], 20],
      ['other', undefined, ['events/stray.jsonl'], 10],
    ]);
  });
});
