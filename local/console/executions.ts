import { DescribeExecutionCommand, DescribeMapRunCommand, ListExecutionsCommand, ListMapRunsCommand, RedriveExecutionCommand } from '@aws-sdk/client-sfn';
import { replayInputFromFlags, type ReplayFlags } from '../../cli/replay-options';
import { backfillInputFromFlags, currentPhase, durationNotes, plainNotes, resolveTarget, startExecution, type BackfillFlags, type Target } from '../../cli/replay-run';

export const MACHINES = ['replay', 'backfill'] as const;
export type MachineName = (typeof MACHINES)[number];

export interface ExecutionView {
  readonly machine: MachineName;
  readonly executionArn: string;
  readonly name: string;
  readonly status: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  readonly input?: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: unknown;
  /** Whether a redrive may be asked for, and if not why (DescribeExecution's redriveStatus and its reason). */
  readonly redrive?: { readonly status: string; readonly reason?: string };
  /** While running: the phase, by the state entered last (a rebuild's prepare, replay, catch-up, switch, retire). */
  readonly phase?: string;
  /** A finished run in words, as the CLI says them: duplicates apart from bad lines, how long it took in all. */
  readonly notes?: readonly string[];
  /** The Distributed Map's item counts (archive objects for a replay, segments for a backfill). */
  readonly mapRun?: { readonly status?: string; readonly total: number; readonly succeeded: number; readonly failed: number; readonly running: number; readonly pending: number };
}

/**
 * Replay and backfill as the console runs them: the same state machines, found and started by the same code as
 * `npm run replay|backfill` (cli/replay-run.ts), with the same flags turned into the same validated input.
 */
export class ConsoleExecutions {
  private readonly targets = new Map<MachineName, Promise<Target>>();

  async start(machine: MachineName, flags: ReplayFlags & BackfillFlags & { name?: string }): Promise<{ executionArn: string; name: string }> {
    const input = machine === 'replay' ? replayInputFromFlags(flags) : backfillInputFromFlags(flags);
    return startExecution(await this.target(machine), machine, input, flags.name || undefined);
  }

  /** RedriveExecution, as `cdc-cart replay --redrive ARN` sends it (the local endpoint refuses it plainly). */
  async redrive(executionArn: string): Promise<{ executionArn: string }> {
    const { client } = await this.target(machineOf(executionArn));
    await client.send(new RedriveExecutionCommand({ executionArn }));
    return { executionArn };
  }

  /** The newest executions of both machines, newest first. */
  async list(limit = 20): Promise<ExecutionView[]> {
    const all = await Promise.all(
      MACHINES.map(async (machine) => {
        const target = await this.target(machine);
        const { executions } = await target.client.send(new ListExecutionsCommand({ stateMachineArn: target.stateMachineArn, maxResults: limit }));
        return Promise.all((executions ?? []).map((execution) => this.describe(execution.executionArn!, machine)));
      }),
    );
    return all
      .flat()
      .sort((a, b) => (b.startDate ?? '').localeCompare(a.startDate ?? ''))
      .slice(0, limit);
  }

  async describe(executionArn: string, machine: MachineName = machineOf(executionArn)): Promise<ExecutionView> {
    const { client } = await this.target(machine);
    const execution = await client.send(new DescribeExecutionCommand({ executionArn }));
    const { mapRuns } = await client.send(new ListMapRunsCommand({ executionArn })).catch(() => ({ mapRuns: [] }));
    const mapRunArn = mapRuns?.[0]?.mapRunArn;
    const mapRun = mapRunArn ? await client.send(new DescribeMapRunCommand({ mapRunArn })) : undefined;
    const counts = mapRun?.itemCounts;
    const phase = execution.status === 'RUNNING' ? await currentPhase(client, executionArn) : undefined;
    const output = execution.output !== undefined ? parseJson(execution.output) : undefined;
    const outputFields = typeof output === 'object' && output !== null ? (output as Record<string, unknown>) : {};
    const notes = execution.status === 'SUCCEEDED' ? [...plainNotes(outputFields, execution.name ?? ''), ...durationNotes(execution, outputFields)] : [];
    return {
      machine,
      executionArn,
      name: execution.name ?? '',
      status: execution.status ?? 'UNKNOWN',
      ...(phase ? { phase } : {}),
      ...(notes.length > 0 ? { notes } : {}),
      ...(execution.redriveStatus ? { redrive: { status: execution.redriveStatus, ...(execution.redriveStatusReason ? { reason: execution.redriveStatusReason } : {}) } } : {}),
      ...(execution.startDate ? { startDate: execution.startDate.toISOString() } : {}),
      ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
      ...(execution.input !== undefined ? { input: parseJson(execution.input) } : {}),
      ...(execution.output !== undefined ? { output: parseJson(execution.output) } : {}),
      ...(execution.error !== undefined ? { error: execution.error } : {}),
      ...(execution.cause !== undefined ? { cause: parseJson(execution.cause) } : {}),
      ...(counts
        ? {
            mapRun: {
              ...(mapRun?.status ? { status: mapRun.status } : {}),
              total: counts.total ?? 0,
              succeeded: counts.succeeded ?? 0,
              failed: (counts.failed ?? 0) + (counts.timedOut ?? 0) + (counts.aborted ?? 0),
              running: counts.running ?? 0,
              pending: counts.pending ?? 0,
            },
          }
        : {}),
    };
  }

  private target(machine: MachineName): Promise<Target> {
    let target = this.targets.get(machine);
    if (!target) this.targets.set(machine, (target = resolveTarget(machine, {})));
    return target;
  }
}

/** `arn:aws:states:<region>:<account>:execution:<machine>:<name>` */
export function machineOf(executionArn: string): MachineName {
  const machine = executionArn.split(':')[6];
  if (!MACHINES.includes(machine as MachineName)) throw new RangeError(`not an execution of ${MACHINES.join(' or ')}: ${executionArn}`);
  return machine as MachineName;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
