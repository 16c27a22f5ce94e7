import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { differenceFrom } from './compare-output';
import type { TourStep } from './readme-tour';

export interface StepResult {
  readonly step: TourStep;
  readonly ok: boolean;
  readonly output: string;
  readonly errorOutput: string;
  readonly exitCode?: number;
  readonly problem?: string;
}

export interface TourOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stepTimeoutMs: number;
  readonly onStep?: (result: StepResult) => void;
}

/**
 * Runs the steps in order in ONE bash session, as a reader pasting them into a terminal would (variables carry
 * over from step to step), and checks each step's answer. Stops at the first step that fails, times out or
 * answers something else than the guide says.
 */
export async function runTour(steps: readonly TourStep[], options: TourOptions): Promise<StepResult[]> {
  // Its own process group, so that what a step started goes with the shell (see the end).
  const shell = spawn('bash', ['--noprofile', '--norc'], { cwd: options.cwd, env: options.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const marker = `__tour_step_done_${randomUUID().replace(/-/g, '')}`;
  const errorEndMarker = `\n${marker}\n`;
  const outputEnd = new RegExp(`\\n${marker} (\\d+)\\n`);
  let stdout = '';
  let stderr = '';
  let waiting: (() => void) | undefined;
  shell.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    waiting?.();
  });
  shell.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    waiting?.();
  });
  let exited = false;
  shell.once('exit', () => {
    exited = true;
    waiting?.();
  });

  const results: StepResult[] = [];
  try {
    for (const step of steps) {
      stdout = '';
      stderr = '';
      // stdin from /dev/null: a command that reads its input must not swallow the next steps. The marker goes to
      // both streams: two pipes keep no order between them, so a step's stderr can arrive after its stdout's end.
      shell.stdin.write(`{\n${step.commands}\n} </dev/null\n__tour_status=$?\nprintf '\\n${marker}\\n' >&2\nprintf '\\n${marker} %d\\n' "$__tour_status"\n`);
      const done = await new Promise<RegExpExecArray | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), options.stepTimeoutMs);
        waiting = () => {
          const match = outputEnd.exec(stdout);
          if ((match && stderr.includes(errorEndMarker)) || exited) {
            clearTimeout(timer);
            resolve(match ?? undefined);
          }
        };
        waiting();
      });
      const output = done ? stdout.slice(0, done.index) : stdout;
      const errorEnd = stderr.indexOf(errorEndMarker);
      const result = judge(step, output, errorEnd === -1 ? stderr : stderr.slice(0, errorEnd), done ? Number(done[1]) : undefined, options.stepTimeoutMs, exited);
      results.push(result);
      options.onStep?.(result);
      if (!result.ok) break;
    }
  } finally {
    shell.stdin.end();
    // A step that timed out leaves its command running (`sleep 30`), holding the shell's stdout and stderr open: killing
    // bash alone would leave it behind, and its pipes would keep this process from exiting. The whole group goes.
    if (!exited && shell.pid !== undefined) {
      try {
        process.kill(-shell.pid, 'SIGKILL');
      } catch {
        // The group has already gone.
      }
    }
    shell.stdout.destroy();
    shell.stderr.destroy();
  }
  return results;
}

function judge(step: TourStep, output: string, errorOutput: string, exitCode: number | undefined, timeoutMs: number, shellExited: boolean): StepResult {
  const base = { step, output, errorOutput, ...(exitCode === undefined ? {} : { exitCode }) };
  if (exitCode === undefined) {
    return { ...base, ok: false, problem: shellExited ? 'the shell exited' : `no answer within ${Math.round(timeoutMs / 1000)} s` };
  }
  if (exitCode !== 0) return { ...base, ok: false, problem: `exit status ${exitCode}` };
  if (step.expected === undefined) return { ...base, ok: true };
  const difference = differenceFrom(step.expected, output);
  return difference ? { ...base, ok: false, problem: `the answer differs from the README: ${difference}` } : { ...base, ok: true };
}
