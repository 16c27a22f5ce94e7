import { parseArgs } from 'node:util';
import { replayInputFromFlags } from './replay-options';
import { COMMON_OPTIONS, COMMON_USAGE, fail, redriveTarget, redriveWithProgress, report, resolveTarget, runWithProgress } from './replay-run';

const USAGE = `usage: npm run replay -- --target projections|stream [--from ISO] [--to ISO] [--rebuild [--retire-after SECONDS]] [--projections a,b] [--dry-run]
       npm run replay -- --redrive EXECUTION_ARN [--aws]

Replays the S3 archive through the "replay" state machine.
  --target projections|stream  apply to the read models, or republish to the stream flagged replayed
  --from, --to ISO-8601        window of archive (arrival) hours, both ends inclusive; default: the whole archive
  --projections a,b            which read models (default: all: cart-summary, item-popularity)
  --rebuild                    blue/green: build a new generation of those read models from the archive beside the
                               live one, catch it up, switch readers over; the live one serves throughout (target
                               projections only). Progress names the phase: prepare, replay, catch up, switch, retire
  --retire-after SECONDS       with --rebuild: keep the old generation readable this long after the switch (default: the longest consumer or replay step timeout plus the pointer cache: 31 s locally, 901 s on AWS)
  --dry-run                    read and check everything, change nothing (bad lines are still set aside and counted)
  --max-bad-lines N            fail (TooManyBadLines) when more than N lines could not be replayed (default: no limit)
  --max-bad-lines-percent P    the same, as a percentage of the lines read
${COMMON_USAGE.replaceAll('<machine>', 'replay')}

examples:
  npm run replay -- --target projections --rebuild
  npm run replay -- --target stream --from 2024-05-01T10:00:00Z --to 2024-05-01T12:00:00Z
  npm run replay -- --aws --stage prod --target projections --projections cart-summary --rebuild`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...COMMON_OPTIONS,
      target: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      projections: { type: 'string' },
      rebuild: { type: 'boolean' },
      'retire-after': { type: 'string' },
      'dry-run': { type: 'boolean' },
      'max-bad-lines': { type: 'string' },
      'max-bad-lines-percent': { type: 'string' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (values.redrive !== undefined) {
    const execution = await redriveWithProgress(redriveTarget(values.redrive, values), values.redrive, { unit: 'objects' });
    process.exitCode = report(execution);
    return;
  }
  // The state machine validates too; checking here first names the flag and starts nothing (exit 2).
  const input = replayInputFromFlags(values);
  const target = await resolveTarget('replay', values);
  const execution = await runWithProgress(target, 'replay', input, { unit: 'objects', ...(values.name ? { executionName: values.name } : {}) });
  process.exitCode = report(execution);
}

main().catch((error) => fail(error, USAGE));
