import { hopLine, PIPELINE_HOPS, verifyPipeline } from './pipeline-verification';
import { CART, fakeTime, healthyProbe, START, STORED } from './pipeline-verification.testing';

describe('verifyPipeline', () => {
  it('checks every hop in order and passes a healthy pipeline', async () => {
    const replays: { from: string; to: string }[] = [];
    const report = await verifyPipeline(healthyProbe({ dryRunReplay: async (window) => (replays.push(window), { status: 'SUCCEEDED', eventsRead: 5 }) }), { timeoutMs: 10_000, ...fakeTime() });
    expect(report.hops.map((hop) => hop.hop)).toEqual([...PIPELINE_HOPS]);
    expect(report.hops.filter((hop) => !hop.ok)).toEqual([]);
    expect(report).toMatchObject({ ok: true, cartId: CART, where: 'local' });
    expect(report.hops.find((hop) => hop.hop === 'kinesis')!.detail).toContain('1 duplicate');
    // The archive hour of the object that holds the probe, whole.
    expect(replays).toEqual([{ from: '2026-12-05T08:00:00.000Z', to: '2026-12-05T08:59:59.999Z' }]);
    expect(report.hops.find((hop) => hop.hop === 'dead-letters')!.detail).toContain('1 older one(s) pending');
  });

  it('fails the archive hop when the archive never holds the probe, names the causes, and does not run the replay', async () => {
    const time = fakeTime();
    const replay = jest.fn();
    const report = await verifyPipeline(healthyProbe({ archivedObjects: async () => [], dryRunReplay: replay }), { timeoutMs: 30_000, ...time });
    expect(report.ok).toBe(false);
    const archive = report.hops.find((hop) => hop.hop === 'archive')!;
    expect(archive).toMatchObject({ ok: false, detail: expect.stringMatching(/not within --timeout: 0\/2 events in no object yet/) });
    expect(hopLine(archive)).toMatch(/^FAIL archive \d+ not within --timeout[^\n]*\n {7}likely: the archiver component/);
    expect(report.hops.find((hop) => hop.hop === 'replay')).toMatchObject({ ok: false, detail: 'not checked: needs the archive hop' });
    expect(replay).not.toHaveBeenCalled();
    // The hops before it passed; dead-letters is still checked.
    expect(report.hops.filter((hop) => !hop.ok).map((hop) => hop.hop)).toEqual(['archive', 'replay']);
    expect(time.now() - START).toBeLessThanOrEqual(30_000);
  });

  it('fails kinesis at once when a record keyed otherwise carries the probe (a broken PartitionKey path), with the AWS causes', async () => {
    const report = await verifyPipeline(
      healthyProbe({ where: 'aws', streamRecords: async () => STORED.map((event) => ({ partitionKey: 'all-events', envelope: event })) }),
      { timeoutMs: 600_000, ...fakeTime() },
    );
    const kinesis = report.hops.find((hop) => hop.hop === 'kinesis')!;
    expect(kinesis).toMatchObject({ ok: false, detail: expect.stringContaining('PartitionKey "all-events"') });
    expect(kinesis.likelyCauses!.join(' ')).toMatch(/dead-letter queue.*CdcPipe\/Logs.*PartitionKey path/);
    expect(kinesis.ms).toBe(0);
  });

  it("fails kinesis as soon as the Pipe's dead-letter queue grows while the probe's events are missing, naming the queue", async () => {
    const time = fakeTime();
    let polls = 0;
    const report = await verifyPipeline(
      healthyProbe({
        where: 'aws',
        pipeDeadLetterQueue: 'cdc-pipe',
        streamRecords: async () => [],
        // The Pipe gives up on the probe's batch (every put refused) after a few polls.
        deadLetterCounts: async () => ({ 'cdc-pipe': (polls += 1) > 3 ? 1 : 0 }),
      }),
      { timeoutMs: 600_000, ...time },
    );
    const kinesis = report.hops.find((hop) => hop.hop === 'kinesis')!;
    expect(kinesis).toMatchObject({ ok: false, detail: '0/2 events as records keyed by the cart id, and the Pipe sent 1 batch(es) to its dead-letter queue (cdc-pipe) meanwhile' });
    expect(kinesis.ms).toBeLessThan(10_000);
    // Without the Pipe's queue named, the same run waits out the whole --timeout.
    polls = 0;
    const slow = await verifyPipeline(healthyProbe({ streamRecords: async () => [], deadLetterCounts: async () => ({ 'cdc-pipe': (polls += 1) > 3 ? 1 : 0 }) }), { timeoutMs: 60_000, ...fakeTime() });
    expect(slow.hops.find((hop) => hop.hop === 'kinesis')!.detail).toMatch(/^not within --timeout/);
  });

  it('passes kinesis when every probe event is on the stream, whatever the Pipe dead-lettered meanwhile (the dead-letters hop reports that)', async () => {
    let polls = 0;
    const report = await verifyPipeline(healthyProbe({ pipeDeadLetterQueue: 'pipe', deadLetterCounts: async () => ({ pipe: (polls += 1) > 1 ? 1 : 0 }) }), { timeoutMs: 10_000, ...fakeTime() });
    expect(report.hops.filter((hop) => !hop.ok).map((hop) => hop.hop)).toEqual(['dead-letters']);
  });

  it('fails dead-letters when a letter arrived during the run, naming the queue', async () => {
    const counts: Record<string, number>[] = [{ pipe: 0 }, { pipe: 0, 'consumer:projections': 1 }];
    const report = await verifyPipeline(healthyProbe({ deadLetterCounts: async () => counts.shift()! }), { timeoutMs: 10_000, ...fakeTime() });
    expect(report.hops.at(-1)).toMatchObject({ hop: 'dead-letters', ok: false, detail: 'new dead letter(s) meanwhile: 1 in consumer:projections' });
  });

  it('fails the api hop (and says why the others were not checked) when the API refuses, without throwing', async () => {
    const report = await verifyPipeline(healthyProbe({ openProbeCart: async () => Promise.reject(new Error('403 Forbidden')) }), { timeoutMs: 10_000, ...fakeTime() });
    expect(report.hops[0]).toMatchObject({ hop: 'api', ok: false, detail: 'Error: 403 Forbidden' });
    expect(report.hops[1]).toMatchObject({ hop: 'event-store', ok: false, detail: 'not checked: needs the api hop' });
    expect(report.hops).toHaveLength(PIPELINE_HOPS.length);
  });

  it("gives the hops after api the whole --timeout, counted from when the api hop ends: a slow API does not spend the pipeline's time", async () => {
    // The API held the probe's key IN_PROGRESS after a lost answer: the probe's retries took 31 s of an 8 s --timeout
    // (a busy run saw this); the stream, the event log and the projections then need a few polls of their own.
    const time = fakeTime();
    const after = (polls: number) => {
      let seen = 0;
      return () => (seen += 1) > polls;
    };
    const onStream = after(3);
    const logged = after(3);
    const projected = after(3);
    const report = await verifyPipeline(
      healthyProbe({
        openProbeCart: async () => (time.sleep(31_000), { cartId: CART, version: 1 }),
        streamRecords: async () => (onStream() ? STORED.map((event) => ({ partitionKey: CART, envelope: event })) : []),
        eventLogLines: async () => (logged() ? STORED.map(({ eventId, version }) => ({ eventId, version })) : []),
        readModelVersion: async () => (projected() ? 2 : undefined),
        archivedObjects: async () => [],
      }),
      { timeoutMs: 8_000, ...time },
    );
    expect(report.hops.filter((hop) => !hop.ok).map((hop) => hop.hop)).toEqual(['archive', 'replay']);
    expect(report.hops.find((hop) => hop.hop === 'api')!.ms).toBe(31_000);
    // The archive waited out the 8 s after the api hop, not a moment more.
    expect(time.now() - START).toBeGreaterThan(31_000 + 8_000 - 100);
    expect(time.now() - START).toBeLessThanOrEqual(31_000 + 8_000);
  });

  it('waits past endBy for nothing (the canary Lambda must end before its timeout), whatever --timeout leaves', async () => {
    const time = fakeTime();
    const report = await verifyPipeline(
      healthyProbe({ openProbeCart: async () => (time.sleep(10_000), { cartId: CART, version: 1 }), archivedObjects: async () => [] }),
      { timeoutMs: 600_000, endBy: START + 30_000, ...time },
    );
    expect(report.hops.find((hop) => hop.hop === 'archive')).toMatchObject({ ok: false, detail: expect.stringMatching(/^not within --timeout/) });
    expect(time.now() - START).toBeLessThanOrEqual(30_000);
  });

  it('fails event-store on a gap, projections when the read model stays behind, event-log on a line written twice', async () => {
    const gap = await verifyPipeline(healthyProbe({ storedEvents: async () => [STORED[1]!] }), { timeoutMs: 5_000, ...fakeTime() });
    expect(gap.hops[1]).toMatchObject({ hop: 'event-store', ok: false });
    const behind = await verifyPipeline(healthyProbe({ readModelVersion: async () => 1 }), { timeoutMs: 5_000, ...fakeTime() });
    expect(behind.hops.find((hop) => hop.hop === 'projections')).toMatchObject({ ok: false, detail: expect.stringContaining('version 1 (stored: 2)') });
    const twice = await verifyPipeline(healthyProbe({ eventLogLines: async () => [{ eventId: 'e1', version: 1 }, { eventId: 'e1', version: 1 }] }), { timeoutMs: 5_000, ...fakeTime() });
    expect(twice.hops.find((hop) => hop.hop === 'event-log')).toMatchObject({ ok: false, detail: expect.stringContaining('twice') });
  });

  it('fails replay when the dry run fails or does not count the probe', async () => {
    const failed = await verifyPipeline(healthyProbe({ dryRunReplay: async () => ({ status: 'FAILED', error: 'States.TaskFailed' }) }), { timeoutMs: 5_000, ...fakeTime() });
    expect(failed.hops.find((hop) => hop.hop === 'replay')).toMatchObject({ ok: false, detail: expect.stringContaining('ended FAILED: States.TaskFailed') });
    const empty = await verifyPipeline(healthyProbe({ dryRunReplay: async () => ({ status: 'SUCCEEDED', eventsRead: 1 }) }), { timeoutMs: 5_000, ...fakeTime() });
    expect(empty.hops.find((hop) => hop.hop === 'replay')).toMatchObject({ ok: false, detail: expect.stringContaining("fewer than the probe's 2") });
  });
});
