import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Chaos, CHAOS_FAULTS, chaosDir, DEFAULT_CHAOS_RATES, describeChaos, parseChaos, readChaosCounts } from './chaos';

describe('chaos settings', () => {
  it('reads CHAOS: off by default, all faults with "all", single rates, and "all" with an override', () => {
    expect(parseChaos(undefined)).toEqual({});
    expect(parseChaos('off')).toEqual({});
    expect(parseChaos('all')).toEqual(DEFAULT_CHAOS_RATES);
    expect(parseChaos('pipe-redelivery=0.5,archive-junk-line=1')).toEqual({ 'pipe-redelivery': 0.5, 'archive-junk-line': 1 });
    expect(parseChaos('all,stream-reorder=0')).toEqual({ ...DEFAULT_CHAOS_RATES, 'stream-reorder': 0 });
    expect(describeChaos(parseChaos('all,stream-reorder=0'))).not.toContain('stream-reorder');
    expect(describeChaos({})).toBe('off');
  });

  it('refuses unknown faults and rates outside 0..1, naming them', () => {
    expect(() => parseChaos('pipe-redelivery=2')).toThrow(/pipe-redelivery must be a number from 0 to 1/);
    expect(() => parseChaos('everything')).toThrow(/unknown fault "everything"/);
  });

  it('counts each injected fault in a file per process, and the stack-wide totals add them up', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chaos-'));
    try {
      let n = 0;
      const sequence = [0.1, 0.9, 0.1];
      const first = new Chaos({ 'pipe-redelivery': 0.5 }, join(chaosDir(dataDir), 'pipe-1.json'), () => sequence[n++ % 3]!);
      const second = new Chaos({ 'archive-duplicate': 1 }, join(chaosDir(dataDir), 'archiver-2.json'));
      expect([first.happens('pipe-redelivery'), first.happens('pipe-redelivery'), first.happens('pipe-redelivery')]).toEqual([true, false, true]);
      expect(first.happens('archive-duplicate')).toBe(false); // not enabled in this process
      second.happens('archive-duplicate');
      const totals = readChaosCounts(dataDir);
      expect(totals).toMatchObject({ 'pipe-redelivery': 2, 'archive-duplicate': 1 });
      expect(Object.keys(totals).sort()).toEqual([...CHAOS_FAULTS].sort());
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
