import { loadLocalConfig } from '../local/config';
import { ENTRIES } from './entries';
import { CHART_IDS, compare, parseArgs, runEntries, type BenchEntry, type BenchResults } from './harness';
import { consoleTable, markdownTable, renderReport } from './report';
import { measureThroughput, median } from './support/measure';
import { lineChartSvg } from './svg-chart';

const stack = loadLocalConfig({});

const reporting: BenchEntry = {
  name: 'reporting',
  title: 'An entry that reports one of everything',
  async run(ctx) {
    ctx.table({ title: 'sizes', columns: ['n', 'value'], rows: [[ctx.scale(1000, 10), 1.5], ['a|b', null]], notes: ['a note'] });
    ctx.ratio({ name: 'speed', subject: 'ours', subjectValue: 300, baseline: 'theirs', baselineValue: 100, unit: 'ops/s', higherIsBetter: true });
    ctx.series({ chart: CHART_IDS.appendCostVsHistory, chartTitle: 'Append cost', xLabel: 'history', yLabel: 'WCU', logX: true, name: 'ours', points: [{ x: 1, y: 1 }, { x: 100, y: 1 }] });
    ctx.series({ chart: CHART_IDS.appendCostVsHistory, chartTitle: 'Append cost', xLabel: 'history', yLabel: 'WCU', logX: true, name: 'seed', points: [{ x: 1, y: 1 }, { x: 100, y: 16 }], note: 'stops at 2,626' });
  },
};
const cleaned: string[] = [];
const failing: BenchEntry = {
  name: 'failing',
  title: 'An entry that fails half-way',
  async run(ctx) {
    ctx.cleanUp(() => void cleaned.push('first'));
    ctx.cleanUp(() => void cleaned.push('second'));
    ctx.table({ title: 'partial', columns: ['a'], rows: [[1]] });
    throw new Error('emulator went away');
  },
};

describe('bench harness', () => {
  it('registers entries with unique kebab-case names, titles and run functions', () => {
    const names = ENTRIES.map((entry) => entry.name);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of ENTRIES) {
      expect(entry.name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(entry.title.length).toBeGreaterThan(0);
      expect(typeof entry.run).toBe('function');
    }
    expect(names[0]).toBe('append-cost');
  });

  it('parses --quick, --only and --out, and refuses anything else', () => {
    expect(parseArgs([], ['a', 'b'])).toEqual({ quick: false, outDir: 'bench' });
    expect(parseArgs(['--quick'], ['a'])).toEqual({ quick: true, outDir: 'bench/.quick' });
    expect(parseArgs(['--only', 'b,a', '--out=/tmp/x'], ['a', 'b'])).toEqual({ quick: false, only: ['b', 'a'], outDir: '/tmp/x' });
    expect(() => parseArgs(['--only', 'c'], ['a', 'b'])).toThrow(/unknown entry c; known: a, b/);
    expect(() => parseArgs(['--fast'], ['a'])).toThrow(/unknown argument --fast/);
  });

  it('compares against the baseline in the direction that matters', () => {
    const base = { name: 'x', subject: 'ours', baseline: 'theirs', unit: 'u' };
    expect(compare({ ...base, subjectValue: 300, baselineValue: 100, higherIsBetter: true })).toEqual({ ratio: 3, verdict: 'ours better by ×3.00' });
    expect(compare({ ...base, subjectValue: 300, baselineValue: 100, higherIsBetter: false })).toEqual({ ratio: 3, verdict: 'ours worse by ×3.00' });
    expect(compare({ ...base, subjectValue: 50, baselineValue: 100, higherIsBetter: false })).toEqual({ ratio: 0.5, verdict: 'ours better by ×2.00' });
    expect(compare({ ...base, subjectValue: 101, baselineValue: 100, higherIsBetter: true }).verdict).toBe('ours ≈ theirs');
    expect(compare({ ...base, subjectValue: 1, baselineValue: 0, higherIsBetter: true }).verdict).toMatch(/not comparable/);
  });

  it('runs every entry, keeps what a failing one reported, and goes on to the next', async () => {
    const lines: string[] = [];
    cleaned.splice(0);
    const results = await runEntries([failing, reporting], { quick: true, stack, log: (line) => lines.push(line) });
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['failing', 'failed'],
      ['reporting', 'ok'],
    ]);
    expect(results[0]!.error).toBe('Error: emulator went away');
    expect(results[0]!.tables).toHaveLength(1);
    expect(results[1]!.tables[0]!.rows[0]![0]).toBe(10); // ctx.scale picked the quick value
    expect(results[1]!.ratios[0]).toMatchObject({ ratio: 3, verdict: 'ours better by ×3.00' });
    expect(lines.some((line) => line.startsWith('[failing] FAILED: Error: emulator went away'))).toBe(true);
    expect(cleaned).toEqual(['second', 'first']); // cleaned up although it failed, last registered first
  });

  it('restarts the stack before an entry that asks for a fresh one, unless it runs first, and hands it the new stack', async () => {
    const seen: { name: string; api: number }[] = [];
    const noting = (name: string, freshStack: boolean): BenchEntry => ({
      name,
      title: name,
      freshStack,
      async run(ctx) {
        seen.push({ name, api: ctx.stack.ports.api });
      },
    });
    const fresh = loadLocalConfig({ API_PORT: String(stack.ports.api + 1) });
    const restarts: number[] = [];
    const restartStack = async () => (restarts.push(seen.length), fresh);
    await runEntries([noting('first', true), noting('shared', false), noting('own', true), noting('after', false)], { quick: true, stack, restartStack });
    expect(restarts).toEqual([2]);
    expect(seen).toEqual([
      { name: 'first', api: stack.ports.api },
      { name: 'shared', api: stack.ports.api },
      { name: 'own', api: fresh.ports.api },
      { name: 'after', api: fresh.ports.api },
    ]);
  });

  it('renders the report: summary, one SVG per chart, placeholders for charts no entry reported, tables and ratios', async () => {
    const entries = await runEntries([reporting, failing], { quick: false, stack });
    const results: BenchResults = {
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:01:00.000Z',
      quick: false,
      machine: { cpuModel: 'Test CPU', cpus: 2, memoryGiB: 8, os: 'Linux', node: '20.19.0', java: '17', loadAverageAtStart: [0.5, 0.4, 0.3] },
      entries,
    };
    const { markdown, charts } = renderReport(results);
    expect([...charts.keys()]).toEqual([`charts/${CHART_IDS.appendCostVsHistory}.svg`]);
    expect(markdown).toContain('![Append cost](charts/append-cost-vs-history.svg)');
    expect(markdown).toContain(`\`${CHART_IDS.enrichmentCostVsHistory}\`: no entry reported this series in this run.`);
    expect(markdown).toContain(`\`${CHART_IDS.replayVsFloor}\`: no entry reported this series in this run.`);
    expect(markdown).toContain('2 × Test CPU, 8 GiB RAM');
    expect(markdown).toContain('Total 1 min 0 s (budget for a full run: 10 min 0 s on 2 cores).');
    expect(markdown).toContain('| 1,000 | 1.50 |');
    expect(markdown).toContain('| a\\|b | — |');
    expect(markdown).toContain('FAILED: Error: emulator went away');
    expect(markdown).toContain('| speed | ours: 300 ops/s | theirs: 100 ops/s | ×3.00 | ours better by ×3.00 |');

    const svg = charts.get(`charts/${CHART_IDS.appendCostVsHistory}.svg`)!;
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(4);
    expect(svg).toContain('stops at 2,626');
  });

  it('draws the points of a series where they belong on the chart', () => {
    const svg = lineChartSvg([{ chart: 'c', chartTitle: 'T <&>', xLabel: 'x', yLabel: 'y', name: 'line', points: [{ x: 0, y: 0 }, { x: 10, y: 10 }] }]);
    const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(circles).toHaveLength(2);
    const [[x0, y0], [x1, y1]] = circles as [[number, number], [number, number]];
    expect(x1).toBeGreaterThan(x0); // larger x further right
    expect(y1).toBeLessThan(y0); // larger y further up
    expect(svg).toContain('T &lt;&amp;&gt;');
  });

  it('formats tables for the console and Markdown', () => {
    expect(consoleTable({ title: 't', columns: ['name', 'n'], rows: [['a', 12345.6]] }).split('\n')).toEqual(['t', 'name       n', '----  ------', 'a     12,346']);
    expect(markdownTable({ columns: ['a', 'b'], rows: [['x', 0.5]] })).toBe('| a | b |\n| --- | ---: |\n| x | 0.50 |');
  });

  it('counts throughput over every writer and only while the clock runs', async () => {
    const seen = new Set<number>();
    const result = await measureThroughput(3, 30, async (writer) => {
      seen.add(writer);
      await new Promise((resolve) => setTimeout(resolve, 5));
      return 10;
    });
    expect([...seen].sort()).toEqual([0, 1, 2]);
    expect(result.events).toBe(result.operations * 10);
    expect(result.operations).toBeGreaterThanOrEqual(3);
    expect(result.eventsPerSecond).toBeCloseTo(result.events / result.seconds);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
