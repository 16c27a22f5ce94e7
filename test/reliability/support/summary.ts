import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One line of the reliability suite's closing table. */
export interface ScenarioOutcome {
  readonly scenario: string;
  readonly operations: number;
  readonly faultsInjected: number;
  readonly eventsLost: number;
  readonly duplicatesInProjections: number;
  readonly note?: string;
}

function summaryFile(dataDir: string): string {
  return join(dataDir, 'reliability-summary.jsonl');
}

export function recordOutcome(outcome: ScenarioOutcome): void {
  const dataDir = process.env.LOCAL_DATA_DIR;
  if (!dataDir) throw new Error('LOCAL_DATA_DIR is not set: run the reliability suite through jest');
  appendFileSync(summaryFile(dataDir), `${JSON.stringify(outcome)}\n`);
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

export function formatOutcomes(outcomes: readonly ScenarioOutcome[]): string {
  const header = ['scenario', 'operations', 'faults injected', 'events lost', 'duplicates left in projections', 'note'];
  const rows = outcomes.map((o) => [o.scenario, String(o.operations), String(o.faultsInjected), String(o.eventsLost), String(o.duplicatesInProjections), o.note ?? '']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
