import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VerificationReport } from '../../application/pipeline-verification';
import { CanaryLoop, parseCanaryInterval, readCanaryState } from './canary-loop';

describe('--canary-interval', () => {
  test('60 s unless given; 0 or off: none; anything else is refused naming the flag', () => {
    expect(parseCanaryInterval(undefined)).toBe(60);
    expect(parseCanaryInterval('')).toBe(60);
    expect(parseCanaryInterval('off')).toBe(0);
    expect(parseCanaryInterval('0')).toBe(0);
    expect(parseCanaryInterval('15')).toBe(15);
    for (const bad of ['soon', '-5', '1.5', 'OFF']) expect(() => parseCanaryInterval(bad)).toThrow(/--canary-interval takes a whole number of seconds/);
  });
});

describe('CanaryLoop', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'canary-loop-'));
    jest.useFakeTimers({ now: Date.UTC(2026, 11, 5, 12) });
  });
  afterEach(() => {
    jest.useRealTimers();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const report = (startedAt: number, ok = true): VerificationReport => ({ ok, where: 'local', startedAt: new Date(startedAt).toISOString(), ms: 0, hops: [] });

  test('off: never runs, and says so in its state', async () => {
    const runOnce = jest.fn();
    const loop = new CanaryLoop(dataDir, 0, runOnce);
    loop.start();
    await jest.advanceTimersByTimeAsync(600_000);
    await loop.stop();
    expect(runOnce).not.toHaveBeenCalled();
    expect(readCanaryState(dataDir)).toEqual({ intervalSeconds: 0, running: false });
  });

  test('runs on its interval, one run at a time: a run longer than the interval delays the next instead of overlapping', async () => {
    const starts: number[] = [];
    let running = 0;
    let overlapped = false;
    const durations = [1_000, 25_000, 1_000, 1_000];
    const loop = new CanaryLoop(dataDir, 10, async () => {
      const started = Date.now();
      starts.push(started);
      overlapped ||= running > 0;
      running++;
      await new Promise((resolve) => setTimeout(resolve, durations[starts.length - 1] ?? 1_000));
      running--;
      return report(started, starts.length !== 2);
    });
    const t0 = Date.now();
    loop.start();
    await jest.advanceTimersByTimeAsync(60_000);
    await loop.stop();
    // First after 5 s; then every 10 s from the previous start; the 25 s run pushes the next to its end.
    expect(starts.slice(0, 4).map((at) => Math.floor((at - t0) / 1000))).toEqual([5, 15, 40, 50]);
    expect(overlapped).toBe(false);
    const state = readCanaryState(dataDir)!;
    expect(state).toMatchObject({ intervalSeconds: 10, lastRun: { ok: true, startedAt: new Date(starts[3]!).toISOString() } });
  });

  test('the last run is kept across a restart of the component', async () => {
    const first = new CanaryLoop(dataDir, 1, async () => report(Date.now(), false));
    first.start();
    await jest.advanceTimersByTimeAsync(1_500);
    await first.stop();
    const again = new CanaryLoop(dataDir, 0, jest.fn());
    again.start();
    expect(readCanaryState(dataDir)).toMatchObject({ intervalSeconds: 0, lastRun: { ok: false } });
  });
});
