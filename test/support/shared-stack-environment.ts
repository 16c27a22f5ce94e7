import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { ProjectTimeoutEnvironment } from './project-timeout-environment';

/**
 * Jest runs several files at a time (maxWorkers): most of its time is spent waiting (a rebuild's settles, a
 * replay, Firehose's buffer), not computing. Files that start a stack of their own declare it in their first
 * comment (`@stack isolated`) and run beside anything. The others share the stack global-setup started and take
 * turns on it, one file at a time: some of them kill its components or count what its dead-letter file and health
 * report hold, which another file's traffic would change under them.
 */
export default class SharedStackEnvironment extends ProjectTimeoutEnvironment {
  private readonly isolated: boolean;
  private holding = false;

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    this.isolated = context.docblockPragmas.stack === 'isolated';
  }

  override async setup(): Promise<void> {
    await super.setup();
    if (this.isolated) return;
    await acquire(lockDir());
    this.holding = true;
  }

  override async teardown(): Promise<void> {
    if (this.holding) release(lockDir());
    this.holding = false;
    await super.teardown();
  }
}

function lockDir(): string {
  const dataDir = process.env.LOCAL_DATA_DIR;
  if (!dataDir) throw new Error('integration tests need the local stack from test/support/global-setup.ts: run them with jest');
  return `${dataDir}.shared-stack-lock`;
}

/** mkdir either creates the folder or fails: exactly one worker holds it. A holder that died leaves its pid behind. */
export async function acquire(dir: string): Promise<void> {
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'owner'), String(process.pid));
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (ownerIsGone(dir)) rmSync(dir, { recursive: true, force: true });
    else await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function ownerIsGone(dir: string): boolean {
  let owner: number;
  try {
    owner = Number(readFileSync(join(dir, 'owner'), 'utf8'));
  } catch {
    return false; // just created, its owner not written yet
  }
  if (!Number.isInteger(owner) || owner <= 0) return false;
  try {
    process.kill(owner, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export function release(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
