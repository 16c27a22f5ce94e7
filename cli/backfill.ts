import { parseArgs } from 'node:util';
import { backfillInputFromFlags, COMMON_OPTIONS, COMMON_USAGE, fail, redriveTarget, redriveWithProgress, report, resolveTarget, runWithProgress } from './replay-run';

const USAGE = `usage: npm run backfill -- [--segments N] [--dry-run]

Writes every event of the event store that the archive lacks into the archive, through the "backfill" state
machine. Running it again adds nothing.
  --segments N   parallel Scan segments, 1-64 (default 4)
  --dry-run      count what is missing, write nothing
${COMMON_USAGE.replaceAll('<machine>', 'backfill')}`;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { ...COMMON_OPTIONS, segments: { type: 'string' }, 'dry-run': { type: 'boolean' } }, allowPositionals: false });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.redrive !== undefined) {
    process.exitCode = report(await redriveWithProgress(redriveTarget(values.redrive, values), values.redrive, { unit: 'segments' }));
    return;
  }
  const input = backfillInputFromFlags(values);
  const target = await resolveTarget('backfill', values);
  const execution = await runWithProgress(target, 'backfill', input, { unit: 'segments', ...(values.name ? { executionName: values.name } : {}) });
  process.exitCode = report(execution);
}

main().catch((error) => fail(error, USAGE));
