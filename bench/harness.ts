import type { LocalConfig } from '../local/config';

/**
 * The benchmark harness's contract. An entry is a module exporting a BenchEntry; bench/entries/index.ts lists
 * them, and `npm run bench` runs them in that order against ONE local stack, started once per run.
 *
 * These machines are noisy (2 shared cores), so an entry never reports a bare time alone: it measures a
 * baseline in the same run and reports ratios against it (ctx.ratio), alongside its tables and series.
 */
export interface BenchEntry {
  /** Short id, used by `--only` and in results.json: kebab-case. */
  readonly name: string;
  readonly title: string;
  /**
   * Run on a stack that no entry has used before it (the run restarts the stack first when an entry came
   * before). For entries that measure the services (API, Pipe, consumers) rather than DynamoDB Local alone: what
   * earlier entries leave behind in them would be measured too.
   */
  readonly freshStack?: boolean;
  run(ctx: BenchContext): Promise<void>;
}

export interface BenchContext {
  /** `--quick`: a smoke run. Do a small fraction of the work; numbers are not meaningful, never assert timings. */
  readonly quick: boolean;
  /** Ports, data folder and resource names of the running local stack (as `npm start` has them, on free ports). */
  readonly stack: LocalConfig;
  /** `full` in a full run, `quick` in a quick one: sizes, durations, repetitions. */
  scale<T>(full: T, quick: T): T;
  /** Progress for the console; not part of the report. */
  log(line: string): void;
  /** A table for the console and the report. */
  table(table: BenchTable): void;
  /** A comparison against a baseline measured in this same run. */
  ratio(ratio: BenchRatio): void;
  /** Points for a chart (SVG in the report). Well-known ids: see CHART_IDS. */
  series(series: BenchSeries): void;
  /**
   * Work to run when the entry ends, failed or not, last registered first: drop its tables, stop what it
   * started. Leftovers would slow the entries after it. A failing clean-up is logged, not fatal.
   */
  cleanUp(work: () => Promise<void> | void): void;
}

export type Cell = string | number | null;

export interface BenchTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
  readonly notes?: readonly string[];
}

export interface BenchRatio {
  /** What is compared, e.g. "append events/s, 1 writer". */
  readonly name: string;
  readonly subject: string;
  readonly subjectValue: number;
  readonly baseline: string;
  readonly baselineValue: number;
  readonly unit: string;
  /** Whether a larger value is the better one (throughput) or not (cost, latency). */
  readonly higherIsBetter: boolean;
}

export interface BenchSeries {
  /** The chart this series belongs to; several series with one id share a chart. */
  readonly chart: string;
  readonly chartTitle: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly logX?: boolean;
  readonly logY?: boolean;
  /** The line's name in the legend. */
  readonly name: string;
  readonly points: readonly { readonly x: number; readonly y: number }[];
  /** Something the reader should know about the line, e.g. where it stops and why. */
  readonly note?: string;
}

/**
 * Charts the report always shows, in this order, whichever entry reports them (a missing one is listed as
 * such): the append-cost entry, the CDC enrichment entry and the replay entry each report theirs.
 */
export const CHART_IDS = {
  appendCostVsHistory: 'append-cost-vs-history',
  enrichmentCostVsHistory: 'enrichment-cost-vs-history',
  replayVsFloor: 'replay-vs-floor',
} as const;

export interface EntryResult {
  readonly name: string;
  readonly title: string;
  readonly status: 'ok' | 'failed';
  readonly error?: string;
  readonly durationMs: number;
  readonly tables: BenchTable[];
  readonly ratios: (BenchRatio & { ratio: number; verdict: string })[];
  readonly series: BenchSeries[];
}

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cpus: number;
  readonly memoryGiB: number;
  readonly os: string;
  readonly node: string;
  readonly java?: string;
  readonly loadAverageAtStart: readonly number[];
}

export interface BenchResults {
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly quick: boolean;
  readonly machine: MachineInfo;
  readonly entries: EntryResult[];
}

/** subject / baseline, and a sentence that says which way it goes. */
export function compare(ratio: BenchRatio): { ratio: number; verdict: string } {
  const value = ratio.baselineValue === 0 ? Number.NaN : ratio.subjectValue / ratio.baselineValue;
  if (!Number.isFinite(value)) return { ratio: value, verdict: 'not comparable (baseline is 0)' };
  const better = ratio.higherIsBetter ? value >= 1 : value <= 1;
  const factor = value >= 1 ? value : 1 / value;
  if (Math.abs(factor - 1) < 0.05) return { ratio: value, verdict: `${ratio.subject} ≈ ${ratio.baseline}` };
  return { ratio: value, verdict: `${ratio.subject} ${better ? 'better' : 'worse'} by ×${formatNumber(factor)}` };
}

export interface RunOptions {
  readonly quick: boolean;
  readonly stack: LocalConfig;
  readonly log?: (line: string) => void;
  /** Stops the stack and starts a new one, for an entry with freshStack after another entry; returns its config. */
  readonly restartStack?: () => Promise<LocalConfig>;
}

/**
 * Runs the entries one after another (they share 2 cores: never in parallel). A failing entry is recorded with
 * its error and the run goes on; the caller decides the exit code.
 */
export async function runEntries(entries: readonly BenchEntry[], options: RunOptions): Promise<EntryResult[]> {
  const log = options.log ?? (() => undefined);
  const results: EntryResult[] = [];
  let stack = options.stack;
  for (const [index, entry] of entries.entries()) {
    if (entry.freshStack && index > 0 && options.restartStack) {
      const restarting = Date.now();
      stack = await options.restartStack();
      log(`[${entry.name}] on a fresh stack (restarted in ${((Date.now() - restarting) / 1000).toFixed(1)} s)`);
    }
    const tables: BenchTable[] = [];
    const ratios: EntryResult['ratios'] = [];
    const series: BenchSeries[] = [];
    const cleanUps: (() => Promise<void> | void)[] = [];
    const ctx: BenchContext = {
      quick: options.quick,
      stack,
      scale: (full, quick) => (options.quick ? quick : full),
      log: (line) => log(`[${entry.name}] ${line}`),
      table: (table) => void tables.push(table),
      ratio: (ratio) => void ratios.push({ ...ratio, ...compare(ratio) }),
      series: (s) => void series.push(s),
      cleanUp: (work) => void cleanUps.push(work),
    };
    const started = Date.now();
    log(`[${entry.name}] ${entry.title}`);
    try {
      await entry.run(ctx);
      results.push({ name: entry.name, title: entry.title, status: 'ok', durationMs: Date.now() - started, tables, ratios, series });
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      log(`[${entry.name}] FAILED: ${message}`);
      results.push({ name: entry.name, title: entry.title, status: 'failed', error: message, durationMs: Date.now() - started, tables, ratios, series });
    }
    for (const work of cleanUps.reverse()) {
      try {
        await work();
      } catch (error) {
        log(`[${entry.name}] clean-up failed: ${String(error)}`);
      }
    }
    log(`[${entry.name}] done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return results;
}

export interface CliOptions {
  readonly quick: boolean;
  readonly only?: readonly string[];
  readonly outDir: string;
}

export function parseArgs(args: readonly string[], knownEntries: readonly string[]): CliOptions {
  let quick = false;
  let only: string[] | undefined;
  let outDir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? args[++i] : arg.slice('--only='.length);
      if (!value) throw new Error('--only needs a comma-separated list of entry names');
      only = value.split(',').map((name) => name.trim()).filter(Boolean);
      const unknown = only.filter((name) => !knownEntries.includes(name));
      if (unknown.length > 0) throw new Error(`unknown entr${unknown.length > 1 ? 'ies' : 'y'} ${unknown.join(', ')}; known: ${knownEntries.join(', ')}`);
    } else if (arg === '--out' || arg.startsWith('--out=')) {
      outDir = arg === '--out' ? args[++i] : arg.slice('--out='.length);
      if (!outDir) throw new Error('--out needs a folder');
    } else throw new Error(`unknown argument ${arg}\nusage: npm run bench [-- --quick] [--only NAME,NAME] [--out DIR]`);
  }
  // A smoke run must not overwrite the committed report of a full run.
  return { quick, ...(only ? { only } : {}), outDir: outDir ?? (quick ? 'bench/.quick' : 'bench') };
}

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(2);
}
