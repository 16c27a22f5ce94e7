import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Each component process writes a small file every second while it is ready. The API's /health reads them: a
 * missing or stale heartbeat means the component is down, whichever process notices first.
 */
export interface Heartbeat {
  readonly name: string;
  readonly pid: number;
  readonly at: number;
  /** The Node.js version the component runs on (process.versions.node): the one Lambda runs, 22. */
  readonly node?: string;
  readonly detail?: Record<string, unknown>;
}

export const HEARTBEAT_INTERVAL_MS = 1_000;
export const HEARTBEAT_STALE_MS = 5_000;

export function runDir(dataDir: string): string {
  return join(dataDir, 'run');
}

export function writeHeartbeat(dataDir: string, beat: Heartbeat): void {
  const dir = runDir(dataDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${beat.name}.json`);
  writeFileSync(`${file}.tmp`, JSON.stringify(beat));
  renameSync(`${file}.tmp`, file);
}

export function clearHeartbeat(dataDir: string, name: string): void {
  rmSync(join(runDir(dataDir), `${name}.json`), { force: true });
}

export function readHeartbeat(dataDir: string, name: string): Heartbeat | undefined {
  try {
    return JSON.parse(readFileSync(join(runDir(dataDir), `${name}.json`), 'utf8')) as Heartbeat;
  } catch {
    return undefined;
  }
}

export function isFresh(beat: Heartbeat | undefined, now = Date.now()): boolean {
  return beat !== undefined && now - beat.at < HEARTBEAT_STALE_MS;
}
