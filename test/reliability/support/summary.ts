import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHAOS_FAULTS, readChaosCounts, type ChaosCounts } from '../../../local/chaos/chaos';

/** One line of the reliability suite's closing table. */
export interface ScenarioOutcome {
  readonly scenario: string;
  readonly operations: number;
  readonly faultsInjected: number;
  readonly eventsLost: number;
  readonly duplicatesInProjections: number;
  /** Event log lines beyond one per event. */
  readonly duplicatesInEventLog?: number;
  /** Kinesis records beyond one per event (what the consumers had to absorb). */
  readonly duplicatesInKinesis?: number;
  readonly note?: string;
  /** Faults the stand-ins had injected in the whole run when the scenario ended (filled by recordOutcome). */
  readonly chaosTotals?: ChaosCounts;
}

function summaryFile(dataDir: string): string {
  return join(dataDir, 'reliability-summary.jsonl');
}

export function recordOutcome(outcome: ScenarioOutcome): void {
  const dataDir = process.env.LOCAL_DATA_DIR;
  if (!dataDir) throw new Error('LOCAL_DATA_DIR is not set: run the reliability suite through jest');
  appendFileSync(summaryFile(dataDir), `${JSON.stringify({ ...outcome, chaosTotals: readChaosCounts(dataDir) })}\n`);
}

export function readOutcomes(dataDir: string): ScenarioOutcome[] {
  try {
    return readFileSync(summaryFile(dataDir), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as ScenarioOutcome);
  } catch {
    return [];
  }
}

/** The summary table: one column per chaos fault, each the number injected during that scenario. */
export function formatOutcomes(outcomes: readonly ScenarioOutcome[]): string {
  const header = ['scenario', 'operations', 'faults injected', 'events lost', 'duplicates in Kinesis', 'duplicates left in projections', 'duplicates left in event log', ...CHAOS_FAULTS, 'note'];
  let before: Partial<ChaosCounts> = {};
  const rows = outcomes.map((o) => {
    const injected = CHAOS_FAULTS.map((fault) => String((o.chaosTotals?.[fault] ?? 0) - (before[fault] ?? 0)));
    before = o.chaosTotals ?? before;
    return [
      o.scenario,
      String(o.operations),
      String(o.faultsInjected),
      String(o.eventsLost),
      String(o.duplicatesInKinesis ?? ''),
      String(o.duplicatesInProjections),
      String(o.duplicatesInEventLog ?? ''),
      ...injected,
      o.note ?? '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
