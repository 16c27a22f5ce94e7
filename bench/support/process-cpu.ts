import { readFileSync } from 'node:fs';
import { COMPONENTS, type ComponentName } from '../../local/components';
import type { LocalConfig } from '../../local/config';
import { dynamoDbJavaPidFile } from '../../local/emulators/dynamodb-local';
import { readHeartbeat } from '../../local/process/heartbeat';

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in ms; undefined without /proc (macOS) or once it is gone. */
export function cpuMsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The processes of a running local stack by name (each component's, DynamoDB Local's Java) and this one. */
export function stackProcesses(config: LocalConfig): Map<string, number> {
  const pids = new Map<string, number>([['bench (HTTP clients)', process.pid]]);
  for (const name of Object.keys(COMPONENTS) as ComponentName[]) {
    const beat = readHeartbeat(config.dataDir, name);
    if (beat) pids.set(name === 'dynamodb' ? 'dynamodb (Node.js wrapper)' : name, beat.pid);
  }
  try {
    pids.set('DynamoDB Local (Java)', Number(readFileSync(dynamoDbJavaPidFile(config.dataDir), 'utf8')));
  } catch {
    // no pid file: not counted
  }
  return pids;
}

/** CPU ms each process uses while `work` runs. */
export async function cpuDuring<T>(processes: Map<string, number>, work: () => Promise<T>): Promise<{ result: T; cpuMs: Map<string, number> }> {
  const before = new Map([...processes].map(([name, pid]) => [name, cpuMsOf(pid)]));
  const result = await work();
  const cpuMs = new Map<string, number>();
  for (const [name, pid] of processes) {
    const start = before.get(name);
    const end = cpuMsOf(pid);
    if (start !== undefined && end !== undefined) cpuMs.set(name, end - start);
  }
  return { result, cpuMs };
}
