import type { EventEnvelope } from '../domain/events';
import { stampEvents } from './cart-commands';
import {
  archivedEventIds,
  backfillObjectStem,
  backfillSegmentSlice,
  planBackfill,
  summarizeBackfill,
  updateArchiveIndex,
  type BackfillPlan,
  type EventStoreScanner,
} from './backfill';
import type { ArchiveObjects } from './replay-ports';

let ids = 0;
const cart = (cartId: string): EventEnvelope[] =>
  stampEvents(cartId, 0, [{ type: 'CartOpened', data: {} }, { type: 'ItemAdded', data: { sku: 'PEN-1', quantity: 1 } }], new Date(0), () => `event-${ids++}`);

function archiveOf(objects: Map<string, string>): ArchiveObjects & { writes: string[] } {
  const writes: string[] = [];
  return {
    writes,
    async *list(prefix) {
      for (const [key, text] of objects) if (key.startsWith(prefix)) yield { key, etag: `${text.length}:${key}`, size: text.length };
    },
    read: async (key) => objects.get(key),
    write: async (key, body) => {
      writes.push(key);
      objects.set(key, body);
    },
  };
}

/** One page per call, so a slice can be cut between pages. */
function scannerOf(items: EventEnvelope[], pageSize = 2): EventStoreScanner {
  return {
    async scan(_segment, _total, cursor) {
      const from = Number(cursor?.at ?? 0);
      const page = items.slice(from, from + pageSize);
      return { events: page, ...(from + pageSize < items.length ? { cursor: { at: from + pageSize } } : {}) };
    },
  };
}

async function planOf(archive: ArchiveObjects, executionName = 'backfill-2024-05-01T10-00-00-000Z'): Promise<BackfillPlan> {
  const result = await planBackfill(archive, { input: { segments: 1 }, executionName, startedAt: '2024-05-01T10:59:59.000Z' });
  if (!result.valid) throw new Error(result.cause);
  return result.backfill;
}

describe('backfill', () => {
  it('never archives an event the CDC refuses; counts it and names the first ones', async () => {
    const good = cart('cart-a');
    const refused = [
      { ...good[0]!, eventId: 'bad-type', version: 3, type: 'CartExploded' },
      { ...good[0]!, eventId: 'bad-schema', version: 4, schemaVersion: 7 },
      { ...good[0]!, eventId: 'bad-shape', version: Number.NaN },
    ] as EventEnvelope[];
    const objects = new Map<string, string>();
    const archive = archiveOf(objects);
    const backfill = await planOf(archive);
    let slice = await backfillSegmentSlice({ scanner: scannerOf([...good, ...refused]), archive, archived: new Set(), shouldStop: () => true }, { segment: 0, backfill });
    while (!slice.done) slice = await backfillSegmentSlice({ scanner: scannerOf([...good, ...refused]), archive, archived: new Set(), shouldStop: () => true }, slice);
    expect(slice.totals).toMatchObject({ scanned: 5, missing: 2, written: 2, refused: 3 });
    expect(slice.totals.firstRefused.map((r) => r.eventId)).toEqual(['bad-type', 'bad-schema', 'bad-shape']);
    expect(slice.totals.firstRefused[0]!.reason).toMatch(/^unknown-type: unknown event type "CartExploded"/);
    const archived = [...objects].filter(([key]) => key.startsWith('events/')).flatMap(([, text]) => text.trim().split('\n').map((l) => JSON.parse(l).eventId));
    expect(archived.sort()).toEqual(good.map((e) => e.eventId).sort());

    const summary = summarizeBackfill({ backfill, segmentResults: [{ segment: 0, totals: slice.totals }] }, Date.parse(backfill.startedAt));
    expect(summary).toMatchObject({ succeeded: true, summary: { refused: 3, firstRefused: [{ eventId: 'bad-type' }, { eventId: 'bad-schema' }, { eventId: 'bad-shape' }] } });
  });

  it('a retried slice rewrites its own object (same key, even an hour later), never a second copy', async () => {
    const events = cart('cart-b');
    const objects = new Map<string, string>();
    const archive = archiveOf(objects);
    const backfill = await planOf(archive);
    const input = { segment: 0, backfill };
    const deps = { scanner: scannerOf(events, 10), archive, archived: new Set<string>(), shouldStop: () => false };
    const first = await backfillSegmentSlice(deps, input);
    const realNow = Date.now;
    Date.now = () => realNow() + 3_600_000;
    try {
      const retried = await backfillSegmentSlice(deps, input);
      expect(retried).toEqual(first);
    } finally {
      Date.now = realNow;
    }
    const eventObjects = [...objects.keys()].filter((key) => key.startsWith('events/'));
    expect(eventObjects).toEqual(['events/2024/05/01/10/backfill-2024-05-01T10-00-00-000Z-s0-p0.jsonl']);
    expect(archive.writes.filter((key) => key.startsWith('events/'))).toEqual([eventObjects[0], eventObjects[0]]);
  });

  it('names its objects without doubling the prefix', () => {
    expect(backfillObjectStem('backfill-2024-05-01')).toBe('backfill-2024-05-01');
    expect(backfillObjectStem('3f1c-uuid')).toBe('backfill-3f1c-uuid');
  });

  it('backfills a lost archive file again: the index drops the entries of objects that are gone', async () => {
    const [a, b] = [cart('cart-c'), cart('cart-d')];
    const objects = new Map([
      ['events/2024/05/01/09/one.jsonl', a.map((e) => `${JSON.stringify(e)}\n`).join('')],
      ['events/2024/05/01/09/two.jsonl', b.map((e) => `${JSON.stringify(e)}\n`).join('')],
    ]);
    const archive = archiveOf(objects);
    expect(archivedEventIds((await updateArchiveIndex(archive)).index).size).toBe(4);
    objects.delete('events/2024/05/01/09/two.jsonl');
    const backfill = await planOf(archive);
    expect(backfill.archivedEvents).toBe(2);
    const archived = archivedEventIds((await updateArchiveIndex(archive)).index);
    const slice = await backfillSegmentSlice({ scanner: scannerOf([...a, ...b], 10), archive, archived, shouldStop: () => false }, { segment: 0, backfill });
    expect(slice.totals).toMatchObject({ missing: 2, written: 2 });
  });

  it('does not take a junk line that carries an eventId for the archived event', async () => {
    const events = cart('cart-e');
    const objects = new Map([['events/2024/05/01/09/junk.jsonl', `${JSON.stringify({ eventId: events[0]!.eventId, junk: true })}\nnot json\n`]]);
    const { index } = await updateArchiveIndex(archiveOf(objects));
    expect(archivedEventIds(index).size).toBe(0);
  });

  it('fails with BackfillFailed and a report naming each failed segment with its error', () => {
    const result = summarizeBackfill(
      {
        backfill: { totalSegments: 2, segments: [0, 1], dryRun: false, runId: 'r', startedAt: new Date(0).toISOString(), indexKey: 'i', archivedEvents: 7, archiveObjects: 1, objectsIndexed: 0 },
        segmentResults: [
          { segment: 0, totals: { scanned: 5, missing: 1, written: 1, objectsWritten: 1 } },
          { segment: 1, failed: true, error: 'Throttled', cause: 'scan segment 1: ProvisionedThroughputExceededException' },
        ],
      },
      1000,
    );
    expect(result).toMatchObject({ succeeded: false, error: 'BackfillFailed' });
    if (result.succeeded) return;
    expect(JSON.parse(result.cause)).toEqual({
      message: '1 Scan segment(s) failed (tolerated: 0); running the backfill again completes them',
      summary: expect.objectContaining({ segments: 2, archivedBefore: 7, scanned: 5, written: 1, failedSegments: 1 }),
      failures: [{ segment: 1, error: 'Throttled', cause: 'scan segment 1: ProvisionedThroughputExceededException' }],
    });
  });
});
