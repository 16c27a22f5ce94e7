import { Random } from './random';

/** The event loop's own setImmediate, kept before a schedule defers the code under test's (see settle). */
const realSetImmediate = globalThis.setImmediate;

/**
 * One seeded scheduler for every actor of a simulated schedule. Every port call (and every sleep) is a STEP that
 * waits until the scheduler picks it; between two steps the code under test runs freely until it blocks on its
 * next step. The scheduler picks uniformly among the steps that are due (virtual time), so one seed gives one
 * interleaving, and decides per call what AWS documents may happen to it (faults.ts).
 *
 * fast-check's `fc.scheduler()` orders promises it wraps, but the code under test batches records with
 * setImmediate (CartSequencer.offer), and a schedule here also needs virtual time (sleeps, stalls bounded by a
 * Lambda's timeout) and fault decisions in the same random stream: hence this small queue of its own.
 */

/** What the scheduler decided for one attempt of a port call. */
export type Fault = 'none' | 'throttle' | 'lost-answer' | 'timeout' | 'crash';

/** How a port call may fail: reads are throttled or stall; writes may also be applied with their answer lost. */
export type CallKind = 'read' | 'write' | 'effect';

export interface FaultPlan {
  /** Chance that a call's attempt meets a fault at all (0 = a calm schedule). */
  readonly rate: number;
  /** Longest stall of one call (a slow or throttled request, a frozen sandbox), virtual ms. */
  readonly stallMaxMs: number;
}

/** One run of a Lambda function (or a client's request): dies whole on a crash or at its deadline. */
export class Invocation {
  alive = true;
  killedBy?: string;

  constructor(
    readonly actor: string,
    readonly id: number,
    /** Virtual time at which the runtime kills it (its function timeout). */
    readonly deadline: number,
  ) {}

  get name(): string {
    return `${this.actor}#${this.id}`;
  }
}

/** The invocation died (a crash or its timeout): whatever it had not done yet is lost. */
export class InvocationDied extends Error {
  override readonly name = 'InvocationDied';
}

/** Every attempt of a call was refused (throttling, 500s): the caller sees the SDK's last error. */
export class CallFailed extends Error {
  override readonly name = 'CallFailed';
}

/** The SDK's default: 3 attempts per request (adapters/aws-clients.ts keeps it), each retry the same request. */
export const SDK_MAX_ATTEMPTS = 3;

interface Step {
  readonly seq: number;
  readonly invocation: Invocation | undefined;
  readonly owner: string;
  /** Built only when the schedule is traced (a violating seed's replay). */
  readonly label: string | (() => string);
  readonly kind: CallKind | 'timer';
  readyAt: number;
  stalled: boolean;
  readonly resolve: (fault: Fault) => void;
  readonly reject: (error: unknown) => void;
}

export class Scheduler {
  readonly random: Random;
  now = 0;
  steps = 0;
  faultsOn = true;
  readonly trace?: string[];
  readonly actorErrors: { actor: string; error: unknown }[] = [];
  private readonly pending: Step[] = [];
  private registrations = 0;
  private readonly deferred: (() => void)[] = [];
  private seq = 0;
  private running = 0;
  private invocations = 0;

  constructor(
    seed: number,
    readonly faults: FaultPlan,
    options: { trace?: boolean } = {},
  ) {
    this.random = new Random(seed);
    if (options.trace) this.trace = [];
  }

  /** Runs an actor to its end; an error escaping it is a finding (actors handle every failure AWS documents). */
  spawn(actor: string, body: () => Promise<void>): void {
    this.running++;
    this.registrations++;
    void body()
      .catch((error: unknown) => {
        this.actorErrors.push({ actor, error });
      })
      .finally(() => {
        this.running--;
        this.registrations++;
      });
  }

  invocation(actor: string, timeoutMs: number): Invocation {
    return new Invocation(actor, ++this.invocations, this.now + timeoutMs);
  }

  /** Virtual sleep: due `ms` later; other actors move meanwhile. */
  sleep(owner: string, ms: number, invocation?: Invocation): Promise<void> {
    return this.turn(owner, invocation, `sleep ${ms}ms`, 'timer', ms).then(() => undefined);
  }

  /**
   * A port call as the AWS SDK makes it: each attempt is a step; a throttled or failed attempt is retried (the same
   * request), up to `maxAttempts`; an attempt may be APPLIED and its answer lost (a 500 or a timeout after the
   * write), and the retry then meets the write's own effect (a conditional write fails its condition).
   */
  async call<T>(owner: string, invocation: Invocation | undefined, label: string | (() => string), kind: CallKind, fn: () => T | Promise<T>, maxAttempts = SDK_MAX_ATTEMPTS): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const fault = await this.turn(owner, invocation, attempt === 1 ? label : () => `${text(label)} (attempt ${attempt})`, kind, 0);
      if (fault === 'throttle') {
        if (attempt < maxAttempts) continue;
        throw new CallFailed(`${text(label)}: throttled ${attempt} times`);
      }
      const result = await fn();
      if (fault === 'lost-answer' || fault === 'timeout') {
        if (attempt < maxAttempts) continue;
        throw new CallFailed(`${text(label)}: applied, but its answer was lost ${attempt} times`);
      }
      return result;
    }
  }

  /** Kills an invocation: its pending and later steps fail with InvocationDied. */
  kill(invocation: Invocation, why: string): void {
    if (!invocation.alive) return;
    invocation.alive = false;
    invocation.killedBy = why;
    this.log(() => `${invocation.name} DIES: ${why}`);
  }

  /** Picks due steps until none is left (quiescence) or `maxSteps` were taken. */
  run(maxSteps: number): Promise<'quiet' | 'step-limit' | 'stuck'> {
    return this.withDeferredImmediates(async () => {
      for (;;) {
        await this.settle();
        if (this.pending.length === 0) return this.running === 0 ? 'quiet' : 'stuck';
        if (this.steps >= maxSteps) return 'step-limit';
        this.takeOne();
      }
    });
  }

  log(line: string | (() => string)): void {
    this.trace?.push(`${String(this.now).padStart(7)}ms  ${text(line)}`);
  }

  private turn(owner: string, invocation: Invocation | undefined, label: string | (() => string), kind: CallKind | 'timer', delay: number): Promise<Fault> {
    if (invocation && !invocation.alive) return Promise.reject(new InvocationDied(`${invocation.name}: ${invocation.killedBy}`));
    return new Promise<Fault>((resolve, reject) => {
      this.pending.push({ seq: ++this.seq, invocation, owner, label, kind, readyAt: this.now + delay, stalled: false, resolve, reject });
      this.registrations++;
    });
  }

  /**
   * Lets the code under test run until every actor is blocked on a step. The code under test batches with
   * setImmediate (CartSequencer.offer): while a schedule runs, its setImmediate callbacks are queued here and run
   * in order once the microtasks are drained, so a settle costs one event-loop turn when nothing was deferred.
   */
  private async settle(): Promise<void> {
    for (;;) {
      await new Promise<void>((resolve) => realSetImmediate(resolve));
      if (this.deferred.length === 0) return;
      for (const callback of this.deferred.splice(0)) callback();
    }
  }

  /** Runs `body` with setImmediate deferred to this scheduler (see settle). */
  async withDeferredImmediates<T>(body: () => Promise<T>): Promise<T> {
    const original = globalThis.setImmediate;
    globalThis.setImmediate = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
      this.deferred.push(() => callback(...args));
      return { ref: () => undefined, unref: () => undefined, hasRef: () => false } as unknown as NodeJS.Immediate;
    }) as unknown as typeof setImmediate;
    try {
      return await body();
    } finally {
      globalThis.setImmediate = original;
    }
  }

  private takeOne(): void {
    let due = this.pending.filter((step) => step.readyAt <= this.now);
    if (due.length === 0) {
      this.now = Math.min(...this.pending.map((step) => step.readyAt));
      due = this.pending.filter((step) => step.readyAt <= this.now);
    }
    const step = due[this.random.int(0, due.length - 1)]!;
    this.pending.splice(this.pending.indexOf(step), 1);
    this.steps++;
    this.now += this.random.int(1, 4);
    if (step.invocation && !step.invocation.alive) {
      step.reject(new InvocationDied(`${step.invocation.name}: ${step.invocation.killedBy}`));
      return;
    }
    if (step.invocation && this.now >= step.invocation.deadline) {
      this.kill(step.invocation, `timed out before ${text(step.label)}`);
      step.reject(new InvocationDied(`${step.invocation.name}: timed out`));
      return;
    }
    const who = step.invocation?.name ?? step.owner;
    if (step.kind === 'timer') {
      step.resolve('none');
      return;
    }
    const fault = this.faultsOn && this.random.chance(this.faults.rate) ? this.chooseFault(step) : 'none';
    if (fault === 'stall') {
      step.stalled = true;
      step.readyAt = this.now + this.random.int(1, this.faults.stallMaxMs);
      this.pending.push(step);
      this.log(() => `${who}  ${text(step.label)}  STALLS until ${step.readyAt}ms`);
      return;
    }
    if (fault === 'crash' && step.invocation) {
      this.kill(step.invocation, `crashed before ${text(step.label)}`);
      step.reject(new InvocationDied(`${step.invocation.name}: crashed`));
      return;
    }
    this.log(() => `${who}  ${text(step.label)}${fault === 'none' || fault === 'crash' ? '' : `  -> ${fault.toUpperCase()}`}`);
    step.resolve(fault === 'crash' ? 'none' : fault);
  }

  private chooseFault(step: Step): Fault | 'stall' {
    const options: (Fault | 'stall')[] = step.stalled ? ['crash'] : ['stall', 'crash'];
    if (step.kind !== 'effect') options.push('throttle');
    if (step.kind === 'write') options.push('lost-answer', 'timeout');
    return this.random.pick(options);
  }
}

function text(label: string | (() => string)): string {
  return typeof label === 'string' ? label : label();
}
