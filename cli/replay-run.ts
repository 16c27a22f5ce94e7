import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  GetExecutionHistoryCommand,
  ListMapRunsCommand,
  ListStateMachinesCommand,
  RedriveExecutionCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
} from '@aws-sdk/client-sfn';
import type { z } from 'zod';
import { BackfillInput } from '../application/backfill';
import { describeIssues } from '../application/replay';
import { portInForce } from './ports';

// The SDK's notice about future Node.js releases is noise on an operator's terminal.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * What `npm run replay` and `npm run backfill` share: where the state machine is (the local endpoint by
 * default, AWS with --aws), starting it, a progress bar from the Map Run's item counts, and the final summary.
 */

export interface Target {
  readonly client: SFNClient;
  readonly stateMachineArn: string;
  readonly where: string;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const COMMON_OPTIONS = {
  aws: { type: 'boolean' },
  stage: { type: 'string' },
  'state-machine-arn': { type: 'string' },
  region: { type: 'string' },
  name: { type: 'string' },
  redrive: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const COMMON_USAGE = `
Where it runs:
  (default)                  the local endpoint on 127.0.0.1:${portInForce('stepfunctions')} (STEPFUNCTIONS_PORT), state machine "<machine>"
  --aws                      AWS, with the usual credential chain (AWS_PROFILE, AWS_REGION, ...)
  --stage NAME               on AWS: the state machine named "NAME-<machine>" (as infra/ deploys it)
  --state-machine-arn ARN    this state machine, wherever it is (env <MACHINE>_STATE_MACHINE_ARN too)
  --region REGION            AWS region (default: AWS_REGION)
  --name NAME                execution name (default: <machine>-<timestamp>)
  --redrive EXECUTION_ARN    redrive a failed, timed-out or aborted execution instead of starting one: it goes on
                             from the state that failed, re-running only the failed children of its Map Run, with
                             the same input, and is followed like a new run (on AWS; the local endpoint refuses it
                             plainly, docs/replay-and-backfill.md, "Redriving a failed execution": start the run again, it is idempotent)
  -h, --help                 this text`;

/** Finds the state machine: explicit ARN, else the local one by name, else on AWS by (stage-prefixed) name. */
export async function resolveTarget(machine: 'replay' | 'backfill', options: { aws?: boolean; stage?: string; 'state-machine-arn'?: string; region?: string }): Promise<Target> {
  const explicitArn = options['state-machine-arn'] ?? process.env[`${machine.toUpperCase()}_STATE_MACHINE_ARN`];
  if (!options.aws && !explicitArn?.includes(':states:')) {
    const port = portInForce('stepfunctions');
    const client = localClient(port);
    return { client, stateMachineArn: explicitArn ?? `arn:aws:states:us-east-1:000000000000:stateMachine:${machine}`, where: `local endpoint 127.0.0.1:${port}` };
  }
  const client = new SFNClient(options.region ? { region: options.region } : {});
  if (explicitArn) return { client, stateMachineArn: explicitArn, where: 'AWS' };
  const wanted = options.stage ? `${options.stage}-${machine}` : undefined;
  const candidates: { name: string; arn: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListStateMachinesCommand({ nextToken }));
    for (const m of page.stateMachines ?? []) {
      if (wanted ? m.name === wanted : m.name === machine || m.name?.endsWith(`-${machine}`)) candidates.push({ name: m.name!, arn: m.stateMachineArn! });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  if (candidates.length === 1) return { client, stateMachineArn: candidates[0]!.arn, where: 'AWS' };
  if (candidates.length === 0) throw new UsageError(`no state machine named ${wanted ?? `"${machine}" or "*-${machine}"`} in this account and region; pass --stage or --state-machine-arn`);
  throw new UsageError(`several state machines match: ${candidates.map((c) => c.name).join(', ')}; pass --stage or --state-machine-arn`);
}

export interface RunOptions {
  readonly executionName?: string;
  readonly unit: string;
  readonly out?: NodeJS.WriteStream;
}

export interface BackfillFlags {
  readonly segments?: string | undefined;
  readonly 'dry-run'?: boolean | undefined;
}

export function backfillInputFromFlags(values: BackfillFlags): z.infer<typeof BackfillInput> {
  if (values.segments !== undefined && !/^\d+$/.test(values.segments)) throw new UsageError(`--segments must be a whole number, got "${values.segments}"`);
  const input = BackfillInput.safeParse({
    ...(values.segments === undefined ? {} : { segments: Number(values.segments) }),
    ...(values['dry-run'] ? { dryRun: true } : {}),
  });
  if (!input.success) throw new UsageError(describeIssues(input.error).replace(/^segments:/, '--segments:'));
  return input.data;
}

/** Starts an execution named `<machine>-<timestamp>` unless a name is given. */
export async function startExecution(target: Target, machine: string, input: unknown, executionName?: string): Promise<{ executionArn: string; name: string }> {
  const name = executionName ?? `${machine}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const { executionArn } = await target.client.send(new StartExecutionCommand({ stateMachineArn: target.stateMachineArn, name, input: JSON.stringify(input) }));
  return { executionArn: executionArn!, name };
}

/** Starts the execution, shows progress until it ends, returns the final description. */
export async function runWithProgress(target: Target, machine: string, input: unknown, options: RunOptions): Promise<DescribeExecutionCommandOutput> {
  const out = options.out ?? process.stdout;
  const { executionArn } = await startExecution(target, machine, input, options.executionName);
  out.write(`started ${executionArn}\n  on ${target.where}, input ${JSON.stringify(input)}\n`);
  return followWithProgress(target, executionArn, options);
}

/**
 * RedriveExecution (Step Functions API): the execution goes on from its unsuccessful state with the same input and
 * ARN, a failed Map Run re-running only its failed children; then it is followed like a new run.
 */
export async function redriveWithProgress(target: Pick<Target, 'client' | 'where'>, executionArn: string, options: RunOptions): Promise<DescribeExecutionCommandOutput> {
  const out = options.out ?? process.stdout;
  if (!/^arn:aws[a-z-]*:states:[^:]*:\d{12}:execution:[^:]+:[^:]+$/.test(executionArn)) {
    throw new UsageError(`--redrive takes an execution ARN (arn:aws:states:<region>:<account>:execution:<machine>:<name>), got "${executionArn}"`);
  }
  const { redriveDate } = await target.client.send(new RedriveExecutionCommand({ executionArn }));
  out.write(`redriven ${executionArn}\n  on ${target.where}${redriveDate ? ` at ${redriveDate.toISOString()}` : ''}\n`);
  return followWithProgress(target, executionArn, options);
}

/** Where a redrive goes: the local endpoint, or with --aws the execution's own region. */
export function redriveTarget(executionArn: string, options: { aws?: boolean; region?: string }): Pick<Target, 'client' | 'where'> {
  if (!options.aws) {
    const port = portInForce('stepfunctions');
    return { client: localClient(port), where: `local endpoint 127.0.0.1:${port}` };
  }
  const region = options.region ?? executionArn.split(':')[3];
  return { client: new SFNClient(region ? { region } : {}), where: 'AWS' };
}

function localClient(port: string): SFNClient {
  return new SFNClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
}

async function followWithProgress(target: Pick<Target, 'client'>, executionArn: string, options: RunOptions): Promise<DescribeExecutionCommandOutput> {
  const out = options.out ?? process.stdout;

  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    out.write('\nstopping the execution (Ctrl-C again to leave it running)...\n');
    void target.client.send(new StopExecutionCommand({ executionArn, error: 'StoppedByOperator', cause: 'Ctrl-C in the CLI' })).catch(() => undefined);
  };
  process.on('SIGINT', onSignal);

  const started = Date.now();
  let mapRunArn: string | undefined;
  let lastLine = 0;
  try {
    for (;;) {
      const execution = await target.client.send(new DescribeExecutionCommand({ executionArn }));
      if (!mapRunArn) {
        const { mapRuns } = await target.client.send(new ListMapRunsCommand({ executionArn })).catch(() => ({ mapRuns: [] }));
        mapRunArn = mapRuns?.[0]?.mapRunArn;
      }
      const counts = mapRunArn ? (await target.client.send(new DescribeMapRunCommand({ mapRunArn }))).itemCounts : undefined;
      const phase = execution.status === 'RUNNING' ? await currentPhase(target.client, executionArn) : undefined;
      const line = progressLine(counts, Date.now() - started, options.unit, phase);
      if (out.isTTY) out.write(`\r${line}\u001b[K`);
      else if (Date.now() - lastLine > 5_000 || execution.status !== 'RUNNING') {
        out.write(`${line}\n`);
        lastLine = Date.now();
      }
      if (execution.status !== 'RUNNING') {
        if (out.isTTY) out.write('\n');
        return execution;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/**
 * The phases of a run, by the state the execution entered last (statemachines/*.asl.json), in words: the CLI's
 * progress line and the console show these. Every state of every definition has its words (a test holds that).
 */
export const PHASES: Readonly<Record<string, string>> = {
  PlanReplay: 'planning',
  PlanBackfill: 'planning',
  IsInputValid: 'planning',
  InvalidInput: 'refusing the input',
  RebuildRequested: 'planning',
  PrepareGeneration: 'preparing a new generation (the live one keeps serving)',
  ReplayObjects: 'replaying the archive',
  ReplayObject: 'replaying the archive',
  RecordObjectFailure: 'replaying the archive',
  SummarizeReplay: 'summarizing',
  DidReplaySucceed: 'summarizing',
  ReplayFailed: 'failing: see the failure report',
  ReplayDone: 'finishing',
  CatchUpGeneration: 'catching the new generation up with the event store',
  SwitchGeneration: 'switching readers to the new generation',
  WaitBeforeRetire: 'switched; the old generation stays readable until it is retired',
  RetireGeneration: 'retiring the old generation',
  RetireFailed: 'failing: the old generation could not be retired (readers already use the new one)',
  AbandonFailedRebuild: 'abandoning the new generation (the live one keeps serving)',
  AbandonRebuildAfterError: 'abandoning the new generation (the live one keeps serving)',
  RebuildFailed: 'failing: the new generation was abandoned (the live one keeps serving)',
  ScanSegments: 'scanning the event store',
  ScanSegment: 'scanning the event store',
  SegmentFinished: 'scanning the event store',
  SegmentDone: 'scanning the event store',
  RecordSegmentFailure: 'scanning the event store',
  SummarizeBackfill: 'summarizing',
  DidBackfillSucceed: 'summarizing',
  BackfillFailed: 'failing: see the failure report',
  BackfillDone: 'finishing',
};

/**
 * The phase a running execution is in: the last state it entered, from its history (newest first). In a rebuild's
 * wait before retiring, it says how long the old generation has left (the state's input carries retireAfterSeconds).
 */
export async function currentPhase(client: SFNClient, executionArn: string, now = Date.now()): Promise<string | undefined> {
  const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn, reverseOrder: true, maxResults: 25 })).catch(() => ({ events: [] }));
  const entered = events?.find((event) => event.stateEnteredEventDetails?.name);
  const name = entered?.stateEnteredEventDetails?.name;
  if (name === undefined) return undefined;
  const words = PHASES[name] ?? name;
  if (name !== 'WaitBeforeRetire') return words;
  const left = retireTimeLeftMs(entered!.stateEnteredEventDetails!.input, entered!.timestamp, now);
  return left === undefined ? words : `${words}: retiring in ${duration(left)}`;
}

/** From the wait state's input (`replay.retireAfterSeconds`) and when it was entered. */
export function retireTimeLeftMs(stateInput: string | undefined, enteredAt: Date | undefined, now: number): number | undefined {
  if (!stateInput || !enteredAt) return undefined;
  try {
    const seconds = (JSON.parse(stateInput) as { replay?: { retireAfterSeconds?: unknown } }).replay?.retireAfterSeconds;
    return typeof seconds === 'number' ? Math.max(0, enteredAt.getTime() + seconds * 1000 - now) : undefined;
  } catch {
    return undefined;
  }
}

/** m:ss (or h:mm:ss) */
export function duration(ms: number): string {
  const total = Math.round(ms / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor(total / 60) % 60, total % 60];
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}

export function progressLine(counts: { total?: number; succeeded?: number; failed?: number } | undefined, elapsedMs: number, unit: string, phase?: string): string {
  const elapsed = `${Math.floor(elapsedMs / 60_000)}:${String(Math.floor(elapsedMs / 1000) % 60).padStart(2, '0')}`;
  if (!counts?.total) return `${phase ?? 'preparing'}... ${elapsed}`;
  if (phase && phase !== PHASES.ReplayObjects) return `${phase}... (${(counts.succeeded ?? 0) + (counts.failed ?? 0)}/${counts.total} ${unit} replayed${counts.failed ? `, ${counts.failed} failed` : ''})  ${elapsed}`;
  const done = (counts.succeeded ?? 0) + (counts.failed ?? 0);
  const width = 30;
  const filled = Math.round((done / counts.total) * width);
  const rate = done / Math.max(elapsedMs / 1000, 0.001);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${counts.total} ${unit} ${rate.toFixed(1)} ${unit}/s${counts.failed ? `, ${counts.failed} failed` : ''}  ${elapsed}`;
}

/** Prints the output (or the failure report) and returns the exit code. */
export function report(execution: DescribeExecutionCommandOutput, out: NodeJS.WriteStream = process.stdout): number {
  if (execution.status === 'SUCCEEDED') {
    const output = JSON.parse(execution.output ?? '{}') as Record<string, unknown>;
    const notes = [...plainNotes(output, execution.name ?? ''), ...durationNotes(execution, output)];
    out.write(`succeeded:${notes.map((note) => `\n  ${note}`).join('')}\n`);
    for (const [key, value] of Object.entries(output)) out.write(`  ${key.padEnd(22)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}\n`);
    return 0;
  }
  process.stderr.write(`${execution.status?.toLowerCase()}: ${execution.error ?? ''}\n`);
  let cause: unknown = execution.cause;
  try {
    cause = JSON.parse(execution.cause ?? '');
  } catch {
    // a plain-text cause
  }
  process.stderr.write(`${typeof cause === 'string' ? cause : JSON.stringify(cause, null, 2)}\n`);
  return 1;
}

/**
 * How long the run took in all (the execution's start to its end) and which part the summary's rate covers: a
 * rebuild's summary is written before its catch-up, switch, wait and retirement.
 */
export function durationNotes(execution: { startDate?: Date; stopDate?: Date }, output: Record<string, unknown>): string[] {
  if (!execution.startDate || !execution.stopDate) return [];
  const whole = `took ${duration(execution.stopDate.getTime() - execution.startDate.getTime())} in all (start to end of the execution)`;
  if (typeof output.durationMs !== 'number' || typeof output.eventsPerSecond !== 'number') return [whole];
  const covers = typeof output.rateCovers === 'string' ? output.rateCovers : 'the replay';
  return [`${whole}; ${output.eventsPerSecond} events/s over ${duration(output.durationMs)} (durationMs), covering ${covers}`];
}

/** What an operator must not miss in a successful run's output, said in words before the figures. */
export function plainNotes(output: Record<string, unknown>, executionName: string): string[] {
  const notes: string[] = [];
  if (typeof output.note === 'string') notes.push(output.note);
  const bad = output.badLines as { total?: number; byReason?: Record<string, number>; setAsideUnder?: string } | undefined;
  // Duplicates are what at-least-once delivery leaves in the archive: said apart, calmly, from lines really lost.
  const duplicates = bad?.byReason?.duplicate ?? 0;
  if (duplicates > 0) {
    notes.push(`${duplicates} line(s) repeated an event already read and were skipped: expected, since the stream and Firehose deliver at least once; each event was replayed once`);
  }
  const lost = Object.entries(bad?.byReason ?? {}).filter(([reason, count]) => reason !== 'duplicate' && count > 0);
  if (lost.length > 0) {
    const count = lost.reduce((sum, [, n]) => sum + n, 0);
    const reasons = lost.map(([reason, n]) => `${n} ${reason}`).join(', ');
    notes.push(`${count} bad line(s) could not be replayed (${reasons}) and are set aside under ${bad!.setAsideUnder}; list them: npm run replay-rejects -- --execution ${executionName}`);
  }
  const refused = output.refused as number | undefined;
  if (refused) {
    const first = (output.firstRefused as { eventId: string }[] | undefined)?.map((event) => event.eventId).join(', ');
    notes.push(`${refused} event(s) of the event store are refused by the CDC and were not archived (first: ${first}); the CDC dead-lettered them too`);
  }
  return notes;
}

export function fail(error: unknown, usage: string): never {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`error: ${(error as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  const name = (error as Error).name;
  if (name === 'ECONNREFUSED' || (error as { code?: string }).code === 'ECONNREFUSED' || /ECONNREFUSED/.test(String((error as Error).message))) {
    process.stderr.write('error: no Step Functions endpoint answers; start the local stack (npm start) or pass --aws\n');
    process.exit(1);
  }
  process.stderr.write(`error: ${name}: ${(error as Error).message}\n`);
  process.exit(1);
}
