import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { replayInputFromFlags } from './replay-options';
import { durationNotes, PHASES, plainNotes, progressLine } from './replay-run';

describe('replay flags', () => {
  it.each([
    [{}, /^--target is required: "projections" \(the read models\) or "stream"/],
    [{ target: 'nowhere' }, /^--target must be "projections" or "stream", got "nowhere"$/],
    [{ target: 'stream', rebuild: true }, /^--rebuild builds a new generation of read models, so it needs --target projections/],
    [{ target: 'projections', 'retire-after': '60' }, /^--retire-after says when a rebuild retires the old generation, so it needs --rebuild$/],
    [{ target: 'projections', rebuild: true, 'retire-after': 'soon' }, /^--retire-after must be a whole number/],
    [{ target: 'stream', projections: 'cart-summary' }, /^--projections chooses read models, so it needs --target projections/],
    [{ target: 'projections', projections: 'nope,cart-summary' }, /^--projections: unknown "nope"; known: cart-summary, item-popularity$/],
    [{ target: 'projections', projections: ' , ' }, /^--projections needs at least one name/],
    [{ target: 'projections', from: 'yesterday' }, /^--from must be an ISO-8601 date-time with an offset, e\.g\. 2024-05-01T10:00:00Z; got "yesterday"$/],
    [{ target: 'projections', from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00Z' }, /^--from 2024-05-02T00:00:00Z is after --to 2024-05-01T00:00:00Z$/],
    [{ target: 'projections', 'max-bad-lines': '-1' }, /^--max-bad-lines must be a whole number \(0 or more\), got "-1"$/],
    [{ target: 'projections', 'max-bad-lines-percent': '120' }, /^--max-bad-lines-percent must be a percentage from 0 to 100, got "120"$/],
  ])('%j is refused with a message naming the flag', (flags, message) => {
    expect(() => replayInputFromFlags(flags)).toThrow(expect.objectContaining({ name: 'UsageError', message: expect.stringMatching(message) }));
  });

  it('turns good flags into the state machine input', () => {
    expect(
      replayInputFromFlags({ target: 'projections', projections: 'cart-summary', rebuild: true, 'retire-after': '60', 'dry-run': true, 'max-bad-lines': '5', 'max-bad-lines-percent': '0.5', from: '2024-05-01T10:00:00Z' }),
    ).toEqual({ target: 'projections', projections: ['cart-summary'], rebuild: true, retireAfterSeconds: 60, dryRun: true, maxBadLines: 5, maxBadLinesPercent: 0.5, from: '2024-05-01T10:00:00Z' });
  });

  it('names the phase of a running replay in the progress line', () => {
    expect(progressLine(undefined, 3_000, 'objects', PHASES.PrepareGeneration)).toBe(`${PHASES.PrepareGeneration}... 0:03`);
    expect(progressLine({ total: 4, succeeded: 4 }, 61_000, 'objects', PHASES.SwitchGeneration)).toBe(`${PHASES.SwitchGeneration}... (4/4 objects replayed)  1:01`);
    expect(progressLine({ total: 4, succeeded: 1 }, 1_000, 'objects', PHASES.ReplayObjects)).toMatch(/^\[#+\.+\] 1\/4 objects/);
  });
});

describe('the replay command', () => {
  // The endpoint port points nowhere: a bad argument must be refused before anything is called.
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, 'replay.ts'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, STEPFUNCTIONS_PORT: '9' },
      timeout: 60_000,
    });

  it.each([
    [['--target', 'stream', '--rebuild'], /--rebuild builds a new generation/],
    [['--target', 'projections', '--projections', 'nope'], /--projections: unknown "nope"/],
  ])('exits 2 with a precise message for %j, starting nothing', (args, message) => {
    const result = run(...args);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 2, stderr: expect.stringMatching(message) });
    expect(result.stdout).not.toMatch(/started/);
  });
});

describe('how long a run took', () => {
  it('reports the execution\'s whole duration and which part the summary\'s rate covers', () => {
    const execution = { startDate: new Date('2026-12-05T10:00:00Z'), stopDate: new Date('2026-12-05T10:05:09Z') };
    const notes = durationNotes(execution, { durationMs: 6_283, eventsPerSecond: 34, rateCovers: 'the plan and the archive replay only' });
    expect(notes).toEqual(['took 5:09 in all (start to end of the execution); 34 events/s over 0:06 (durationMs), covering the plan and the archive replay only']);
    expect(durationNotes({ startDate: execution.startDate, stopDate: execution.stopDate }, {})).toEqual(['took 5:09 in all (start to end of the execution)']);
    expect(durationNotes({}, {})).toEqual([]);
  });
});

describe('plain notes of a run', () => {
  it('says when nothing was replayed, where bad lines are, and which events the backfill refused', () => {
    expect(plainNotes({ note: 'nothing was replayed: the archive holds no archive object' }, 'r')).toEqual(['nothing was replayed: the archive holds no archive object']);
    expect(plainNotes({ badLines: { total: 139, byReason: { 'not-an-envelope': 2, duplicate: 137 }, setAsideUnder: 's3://b/replay-rejects/r/' } }, 'r')).toEqual([
      '137 line(s) repeated an event already read and were skipped: expected, since the stream and Firehose deliver at least once; each event was replayed once',
      '2 bad line(s) could not be replayed (2 not-an-envelope) and are set aside under s3://b/replay-rejects/r/; list them: npm run replay-rejects -- --execution r',
    ]);
    // Duplicates alone are no bad news: no "bad line" is mentioned.
    const onlyDuplicates = plainNotes({ badLines: { total: 3, byReason: { duplicate: 3 }, setAsideUnder: 's3://b/x/' } }, 'r');
    expect(onlyDuplicates).toHaveLength(1);
    expect(onlyDuplicates.join(' ')).not.toMatch(/bad|not replayed/);
    expect(plainNotes({ refused: 1, firstRefused: [{ eventId: 'e-1' }] }, 'b')[0]).toMatch(/^1 event\(s\) of the event store are refused by the CDC and were not archived \(first: e-1\)/);
    expect(plainNotes({ badLines: { total: 0 }, refused: 0 }, 'r')).toEqual([]);
  });
});
