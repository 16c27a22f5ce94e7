import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { VerificationReport } from '../../application/pipeline-verification';

/** `npm start` runs the canary this often unless told otherwise (--canary-interval; issue 23). */
export const DEFAULT_CANARY_INTERVAL_SECONDS = 60;
/** The variable through which the supervisor (local/stack.ts) tells the canary component its interval; 0: off. */
export const CANARY_INTERVAL_VARIABLE = 'CANARY_INTERVAL_SECONDS';
/** The first run comes this soon after the start (or the interval, if shorter): the console has something to show. */
const FIRST_RUN_DELAY_MS = 5_000;

/** What the console's Pipeline view shows: the canary's setting and its last finished run. */
export interface CanaryState {
  /** 0 when the canary is off. */
  readonly intervalSeconds: number;
  readonly running: boolean;
  readonly lastRun?: VerificationReport & { readonly finishedAt: string };
  readonly nextRunAt?: string;
}

/**
 * `--canary-interval SECONDS`, `0` or `off`: seconds between canary runs, 0 for none. Throws a message naming the
 * flag for anything else.
 */
export function parseCanaryInterval(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_CANARY_INTERVAL_SECONDS;
  if (raw === 'off') return 0;
  if (!/^\d+$/.test(raw)) throw new Error(`--canary-interval takes a whole number of seconds, or 0 or off to disable the canary; got "${raw}"`);
  return Number(raw);
}

export function canaryStateFile(dataDir: string): string {
  return join(dataDir, 'canary', 'state.json');
}

export function readCanaryState(dataDir: string): CanaryState | undefined {
  const file = canaryStateFile(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CanaryState;
  } catch {
    return undefined;
  }
}

function writeCanaryState(dataDir: string, state: CanaryState): void {
  const file = canaryStateFile(dataDir);
  mkdirSync(join(dataDir, 'canary'), { recursive: true });
  // Replaced whole (rename), so a reader never sees half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(state));
  renameSync(`${file}.tmp`, file);
}

/**
 * Runs the canary every `intervalSeconds`, one run at a time: a run that takes longer than the interval delays the
 * next instead of overlapping it (the next starts an interval after the previous one started, or at once when that
 * has passed). Each finished run is written to the state file for the console.
 */
export class CanaryLoop {
  private timer?: NodeJS.Timeout;
  private current?: Promise<void>;
  private stopped = false;
  private lastRun?: CanaryState['lastRun'];

  constructor(
    private readonly dataDir: string,
    private readonly intervalSeconds: number,
    private readonly runOnce: () => Promise<VerificationReport>,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    const previous = readCanaryState(this.dataDir)?.lastRun;
    if (previous) this.lastRun = previous;
    if (this.intervalSeconds <= 0) {
      this.write(false);
      return;
    }
    this.schedule(Math.min(FIRST_RUN_DELAY_MS, this.intervalSeconds * 1000));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.write(false, delayMs);
    this.timer = setTimeout(() => {
      this.current = this.run();
    }, delayMs);
  }

  private async run(): Promise<void> {
    const started = this.now();
    this.write(true);
    try {
      const report = await this.runOnce();
      this.lastRun = { ...report, finishedAt: new Date(this.now()).toISOString() };
    } catch (error) {
      // verifyPipeline never throws; anything here is the canary's own wiring failing, shown as such.
      console.error(`canary: the run itself failed: ${(error as Error).stack ?? String(error)}`);
    }
    this.schedule(Math.max(0, started + this.intervalSeconds * 1000 - this.now()));
  }

  private write(running: boolean, nextInMs?: number): void {
    writeCanaryState(this.dataDir, {
      intervalSeconds: this.intervalSeconds,
      running,
      ...(this.lastRun ? { lastRun: this.lastRun } : {}),
      ...(nextInMs === undefined ? {} : { nextRunAt: new Date(this.now() + nextInMs).toISOString() }),
    });
  }
}
