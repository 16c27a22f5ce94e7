import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { javaMajorVersion } from '../local/emulators/dynamodb-local';
import { ENTRIES } from './entries';
import { parseArgs, runEntries, type BenchResults, type MachineInfo } from './harness';
import { consoleSummary, FULL_RUN_BUDGET_MS, renderReport, totalMs } from './report';
import { startBenchStack } from './support/stack';

/** `npm run bench [-- --quick] [--only NAME,NAME] [--out DIR]`: every entry, one local stack, one report. */
async function main(): Promise<void> {
  let options;
  try {
    options = parseArgs(process.argv.slice(2), ENTRIES.map((e) => e.name));
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  const entries = options.only ? ENTRIES.filter((e) => options.only!.includes(e.name)) : ENTRIES;
  const machine = machineInfo();
  const startedAt = new Date().toISOString();
  const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);

  log(`starting the local stack for ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}${options.quick ? ' (quick)' : ''}...`);
  const stackLog: string[] = [];
  const startStack = () =>
    startBenchStack((line) => stackLog.push(line)).catch((error: Error) => {
      console.error(stackLog.slice(-40).join('\n'));
      console.error(`the local stack did not start: ${error.message}`);
      process.exit(1);
    });
  let started = await startStack();
  // Ctrl-C or SIGTERM mid-run: stop every process of the stack before leaving, write nothing.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the local stack...`);
      void started.stop().finally(() => process.exit(130));
    });
  }
  let results: BenchResults;
  try {
    const restartStack = async () => {
      await started.stop();
      started = await startStack();
      return started.config;
    };
    const entryResults = await runEntries(entries, { quick: options.quick, stack: started.config, log, restartStack });
    results = { startedAt, finishedAt: new Date().toISOString(), quick: options.quick, machine, entries: entryResults };
  } finally {
    await started.stop();
  }

  console.log(consoleSummary(results));
  const outDir = resolve(options.outDir);
  const report = renderReport(results);
  writeAtomically(join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  for (const [file, svg] of report.charts) writeAtomically(join(outDir, file), svg);
  writeAtomically(join(outDir, 'REPORT.md'), report.markdown);
  console.log(`\nwrote ${join(outDir, 'results.json')} and ${join(outDir, 'REPORT.md')} (${report.charts.size} charts)`);
  const total = totalMs(results);
  if (!options.quick && !options.only && total > FULL_RUN_BUDGET_MS) {
    console.warn(`the full run took ${Math.round(total / 1000)} s, over its budget of ${FULL_RUN_BUDGET_MS / 1000} s: see the time per entry in the report`);
  }
  const failed = results.entries.filter((e) => e.status === 'failed');
  if (failed.length > 0) {
    console.error(`${failed.length} entr${failed.length === 1 ? 'y' : 'ies'} failed: ${failed.map((e) => e.name).join(', ')}`);
    process.exit(1);
  }
  process.exit(0);
}

function machineInfo(): MachineInfo {
  const java = javaMajorVersion();
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cpus: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    node: process.versions.node,
    ...(java === undefined ? {} : { java: String(java) }),
    loadAverageAtStart: loadavg(),
  };
}

function writeAtomically(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

void main();
