import { singleGeneration } from './generations';
import type { EventEnvelope } from '../domain/events';
import { foldProjections } from '../domain/projections';
import { stampEvents } from './cart-commands';
import { InMemoryEventStore } from './in-memory-event-store';
import { InMemoryCartSummaryTable, InMemoryItemPopularityTable } from './in-memory-projection-tables';
import { CartProjections } from './projections';
import { planReplay, replayObject, type ReplayPlan } from './replay';
import { readArchiveLines, rejectsKeyOf } from './replay-lines';
import type { ArchiveObjects } from './replay-ports';
import { replayProjections } from './replay-projections';
import { summarizeReplay } from './replay-summary';

/** Item 1 of the bad-data issue: bad lines are set aside with reason, key and line; they never fail a replay. */

const KEY = 'events/2024/05/01/10/part-0.jsonl';
let ids = 0;
const cart = (cartId: string): EventEnvelope[] =>
  stampEvents(
    cartId,
    0,
    [
      { type: 'CartOpened', data: {} },
      { type: 'ItemAdded', data: { sku: 'BOOK-1', quantity: 2 } },
      { type: 'ItemRemoved', data: { sku: 'BOOK-1', quantity: 1 } },
    ],
    new Date(0),
    () => `event-${ids++}`,
  );

const line = (value: unknown) => `${typeof value === 'string' ? value : JSON.stringify(value)}\n`;

function badObject(events: EventEnvelope[]): { text: string; expected: { reason: string; line: number }[] } {
  const [first, second, third] = events;
  const rows: [string, string | undefined][] = [
    [line(first), undefined],
    ['{"eventId": "broken"\n', 'not-json'],
    [line(second), undefined],
    [line({ hello: 'world' }), 'not-an-envelope'],
    [line({ ...second, eventId: 'junk-type', type: 'CartExploded' }), 'unknown-type'],
    [line({ ...second, eventId: 'junk-schema', schemaVersion: 9 }), 'unknown-schema-version'],
    [line({ ...second, eventId: 'junk-data', data: { sku: 'BOOK-1' } }), 'invalid-data'],
    [line({ ...second, eventId: 'junk-aggregate', aggregateType: 'Order' }), 'unknown-aggregate-type'],
    [line(third), undefined],
    [line(second), 'duplicate'],
    ['\n', undefined],
  ];
  return {
    text: rows.map(([text]) => text).join(''),
    expected: rows.flatMap(([, reason], index) => (reason ? [{ reason, line: index + 1 }] : [])),
  };
}

function archiveOf(objects: Map<string, string>): ArchiveObjects {
  return {
    async *list(prefix) {
      for (const [key, text] of objects) if (key.startsWith(prefix)) yield { key, etag: key, size: text.length };
    },
    read: async (key) => objects.get(key),
    write: async (key, body) => void objects.set(key, body),
  };
}

function plan(input: Record<string, unknown> = {}, executionName = 'replay-1'): ReplayPlan {
  const result = planReplay({ input: { target: 'projections', ...input }, executionName, startedAt: new Date(0).toISOString() }, ['cart-summary', 'item-popularity'], { retireAfterSeconds: 31 });
  if (!result.valid) throw new Error(result.cause);
  return result.replay;
}

function world(events: EventEnvelope[], text: string) {
  const store = new InMemoryEventStore();
  store.seed(events);
  const summaries = new InMemoryCartSummaryTable();
  const popularity = new InMemoryItemPopularityTable();
  const objects = new Map([[KEY, text]]);
  const deps = { archive: archiveOf(objects), projections: replayProjections(singleGeneration(new CartProjections([summaries, popularity], store))), stream: { publish: async (e: readonly EventEnvelope[]) => e.length } };
  return { deps, objects, summaries, popularity };
}

describe('readArchiveLines', () => {
  it('names the reason and line number of every bad line, and keeps each valid eventId once', () => {
    const events = cart('cart-a');
    const { text, expected } = badObject(events);
    const read = readArchiveLines(KEY, text);
    expect(read.events.map((event) => event.eventId)).toEqual(events.map((event) => event.eventId));
    expect(read.badLines.map(({ reason, line: at }) => ({ reason, line: at }))).toEqual(expected);
    expect(read.badLines.every((bad) => bad.key === KEY && bad.detail.length > 0 && bad.text.length > 0)).toBe(true);
    expect(read.badLines.find((bad) => bad.reason === 'duplicate')).toMatchObject({ eventId: events[1]!.eventId, detail: expect.stringMatching(/first at line 3 \(same content\)/) });
    expect(read.linesRead).toBe(10);
  });
});

describe('replayObject with bad lines', () => {
  it('applies the valid events, sets the bad lines aside under replay-rejects/<execution>/<key>, and does not fail', async () => {
    const events = cart('cart-a');
    const { text, expected } = badObject(events);
    const { deps, objects, summaries } = world(events, text);
    const result = await replayObject(deps, { key: KEY, replay: plan() });
    expect(result).toMatchObject({ linesRead: 10, eventsRead: 3, applied: 6, skippedDuplicates: 0 });
    expect(result.badLines).toEqual({ 'not-json': 1, 'not-an-envelope': 1, 'unknown-type': 1, 'unknown-schema-version': 1, 'invalid-data': 1, 'unknown-aggregate-type': 1, duplicate: 1 });
    expect(summaries.summaries()).toEqual(foldProjections(events).cartSummaries);
    const rejects = objects.get(rejectsKeyOf('replay-1', KEY))!;
    expect(rejectsKeyOf('replay-1', KEY)).toBe(`replay-rejects/replay-1/${KEY}`);
    const set = rejects.trim().split('\n').map((row) => JSON.parse(row));
    expect(set.map(({ reason, line: at, key }) => ({ reason, line: at, key }))).toEqual(expected.map((e) => ({ ...e, key: KEY })));
    expect(set[0].text).toBe('{"eventId": "broken"');
  });

  it('dry run: the same checks and counts, the same lines set aside, nothing applied', async () => {
    const events = cart('cart-b');
    const { text } = badObject(events);
    const real = world(events, text);
    const dry = world(events, text);
    const realResult = await replayObject(real.deps, { key: KEY, replay: plan({}, 'exec') });
    const dryResult = await replayObject(dry.deps, { key: KEY, replay: plan({ dryRun: true }, 'exec') });
    expect({ ...dryResult, applied: realResult.applied }).toEqual(realResult);
    expect(dryResult.applied).toBe(0);
    expect(dry.summaries.summaries().size).toBe(0);
    expect(dry.objects.get(rejectsKeyOf('exec', KEY))).toBe(real.objects.get(rejectsKeyOf('exec', KEY)));
  });

  it('writes no rejects object for a clean archive object', async () => {
    const events = cart('cart-c');
    const { deps, objects } = world(events, events.map(line).join(''));
    expect((await replayObject(deps, { key: KEY, replay: plan() })).badLines).toEqual({});
    expect([...objects.keys()]).toEqual([KEY]);
  });
});

describe('summarizeReplay', () => {
  const child = (badLines: Record<string, number>, eventsRead = 10) => ({ key: KEY, inWindow: true, linesRead: eventsRead + Object.values(badLines).reduce((a, b) => a + b, 0), eventsRead, applied: eventsRead * 2, skippedDuplicates: 0, caughtUp: 0, badLines });

  it('adds the bad lines up per reason and says where they are; the replay succeeds without a threshold', () => {
    const result = summarizeReplay(plan({}, 'exec'), [child({ 'not-json': 2, duplicate: 1 }), child({ 'not-json': 1, 'unknown-type': 1 })], undefined, 1000, 'archive');
    expect(result.succeeded).toBe(true);
    expect(result.summary).toMatchObject({
      objects: 2,
      linesRead: 25,
      eventsRead: 20,
      badLines: { total: 5, notReplayable: 4, byReason: { 'not-json': 3, duplicate: 1, 'unknown-type': 1 }, setAsideUnder: 's3://archive/replay-rejects/exec/' },
    });
  });

  it.each([
    [{ maxBadLines: 3 }, true],
    [{ maxBadLines: 2 }, false],
    [{ maxBadLinesPercent: 20 }, true], // 3 of 15 lines = 20%
    [{ maxBadLinesPercent: 19.9 }, false],
  ])('fails with TooManyBadLines only past the threshold %j (duplicates do not count)', (threshold, succeeds) => {
    const result = summarizeReplay(plan(threshold), [child({ 'not-json': 2, 'invalid-data': 1, duplicate: 2 }, 10)], undefined, 1000, 'archive');
    expect(result.succeeded).toBe(succeeds);
    if (!result.succeeded) {
      expect(result.error).toBe('TooManyBadLines');
      expect(JSON.parse(result.cause)).toMatchObject({ message: expect.stringMatching(/3 .*could not be replayed.*s3:\/\/archive\/replay-rejects\//), summary: { badLines: { notReplayable: 3 } } });
    }
  });

  it('says which part of the run its duration and rate cover: a rebuild goes on after the summary', () => {
    expect(summarizeReplay(plan({ rebuild: true }), [child({})], undefined, 1000, 'archive').summary.rateCovers).toMatch(/archive replay only; the catch-up, the switch, the wait before retiring and the retirement come after/);
    expect(summarizeReplay(plan(), [child({})], undefined, 1000, 'archive').summary.rateCovers).toMatch(/the whole replay/);
  });

  it('says plainly that an empty window replayed nothing', () => {
    const result = summarizeReplay(plan({ from: '2001-01-01T00:00:00Z', to: '2001-01-01T05:00:00Z' }), [], undefined, 1000, 'archive');
    expect(result.succeeded && result.summary.note).toMatch(/nothing was replayed: the window 2001-01-01T00:00:00Z \.\. 2001-01-01T05:00:00Z holds no archive object/);
    const outside = summarizeReplay(plan(), [{ ...child({}), inWindow: false }], undefined, 1000, 'archive');
    expect(outside.summary.note).toMatch(/1 object\(s\) under events\/ are outside it/);
    expect(summarizeReplay(plan(), [child({})], undefined, 1000, 'archive').summary.note).toBeUndefined();
  });

  it('fails with ReplayFailed and a report naming each failed object, its error and cause, and the counts so far', () => {
    const failures = Array.from({ length: 23 }, (_, n) => ({ failed: true, key: `events/2024/05/01/10/bad-${n}.jsonl`, error: 'MissingHistoryError', cause: 'x'.repeat(700) }));
    const result = summarizeReplay(plan(), [child({}), ...failures], undefined, 1000, 'archive');
    expect(result.succeeded).toBe(false);
    if (result.succeeded) return;
    expect(result.error).toBe('ReplayFailed');
    const report = JSON.parse(result.cause);
    expect(report.message).toBe('23 archive object(s) could not be replayed (tolerated: 0)');
    expect(report.summary).toMatchObject({ objects: 1, failedObjects: 23, eventsRead: 10 });
    expect(report.failures).toHaveLength(20);
    expect(report.failures[0]).toEqual({ key: 'events/2024/05/01/10/bad-0.jsonl', error: 'MissingHistoryError', cause: `${'x'.repeat(600)}…` });
    expect(report.moreFailures).toBe(3);
  });

  it('fails with ReplayFailed when a step outside the children failed (the reset, the Map itself)', () => {
    const result = summarizeReplay(plan(), [], { Error: 'States.ExceedToleratedFailureThreshold', Cause: 'too many' }, 1000, 'archive');
    expect(result).toMatchObject({ succeeded: false, error: 'ReplayFailed' });
    expect(!result.succeeded && JSON.parse(result.cause).message).toBe('the replay stopped: States.ExceedToleratedFailureThreshold: too many');
  });
});
