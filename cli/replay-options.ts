import { PROJECTION_NAMES } from '../application/projections';
import { ReplayInput } from '../application/replay';
import { UsageError } from './replay-run';

/** What `npm run replay` takes on its command line (node:util parseArgs values). */
export interface ReplayFlags {
  readonly target?: string;
  readonly from?: string;
  readonly to?: string;
  readonly projections?: string;
  readonly rebuild?: boolean;
  readonly 'retire-after'?: string;
  readonly 'dry-run'?: boolean;
  readonly 'max-bad-lines'?: string;
  readonly 'max-bad-lines-percent'?: string;
}

const TARGETS = ['projections', 'stream'];

/**
 * Turns the flags into the state machine's input, or throws a UsageError (exit 2) naming the flag and what it wants. Every
 * check the state machine's PlanReplay makes is made here first (with the same schema and the same projection
 * names), so bad arguments never start an execution.
 */
export function replayInputFromFlags(flags: ReplayFlags): ReplayInput {
  if (flags.target === undefined) throw new UsageError('--target is required: "projections" (the read models) or "stream" (the Kinesis stream)');
  if (!TARGETS.includes(flags.target)) throw new UsageError(`--target must be "projections" or "stream", got "${flags.target}"`);
  if (flags.target === 'stream') {
    if (flags.rebuild) throw new UsageError('--rebuild builds a new generation of read models, so it needs --target projections (a replay onto the stream builds none)');
    if (flags.projections !== undefined) throw new UsageError('--projections chooses read models, so it needs --target projections (a replay onto the stream reaches every consumer)');
  }
  if (flags['retire-after'] !== undefined && !flags.rebuild) throw new UsageError('--retire-after says when a rebuild retires the old generation, so it needs --rebuild');
  let projections: string[] | undefined;
  if (flags.projections !== undefined) {
    projections = flags.projections.split(',').map((name) => name.trim()).filter(Boolean);
    if (projections.length === 0) throw new UsageError(`--projections needs at least one name: ${PROJECTION_NAMES.join(', ')}`);
    const unknown = projections.filter((name) => !(PROJECTION_NAMES as readonly string[]).includes(name));
    if (unknown.length > 0) throw new UsageError(`--projections: unknown ${unknown.map((name) => `"${name}"`).join(', ')}; known: ${PROJECTION_NAMES.join(', ')}`);
  }
  const candidate = {
    ...(flags.from === undefined ? {} : { from: flags.from }),
    ...(flags.to === undefined ? {} : { to: flags.to }),
    target: flags.target,
    ...(projections === undefined ? {} : { projections }),
    ...(flags.rebuild ? { rebuild: true } : {}),
    ...(flags['retire-after'] === undefined ? {} : { retireAfterSeconds: wholeNumber('--retire-after', flags['retire-after']) }),
    ...(flags['dry-run'] ? { dryRun: true } : {}),
    ...(flags['max-bad-lines'] === undefined ? {} : { maxBadLines: wholeNumber('--max-bad-lines', flags['max-bad-lines']) }),
    ...(flags['max-bad-lines-percent'] === undefined ? {} : { maxBadLinesPercent: percent('--max-bad-lines-percent', flags['max-bad-lines-percent']) }),
  };
  const parsed = ReplayInput.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const messages = parsed.error.issues.map((issue) => {
    const field = String(issue.path[0] ?? '');
    if (field === 'from' && issue.message.includes('"from" must not be after "to"')) return `--from ${flags.from} is after --to ${flags.to}`;
    if (field === 'from' || field === 'to') return `--${field} must be an ISO-8601 date-time with an offset, e.g. 2024-05-01T10:00:00Z; got "${flags[field]}"`;
    return `${field || '(input)'}: ${issue.message}`;
  });
  throw new UsageError(messages.join('; '));
}

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number (0 or more), got "${value}"`);
  return Number(value);
}

function percent(flag: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0 || number > 100) throw new UsageError(`${flag} must be a percentage from 0 to 100, got "${value}"`);
  return number;
}
