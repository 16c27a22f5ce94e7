import { readFileSync } from 'node:fs';
import { COMPONENTS, type ComponentName } from '../../../local/components';
import { dynamoDbJavaPidFile } from '../../../local/emulators/dynamodb-local';
import { isFresh, readHeartbeat } from '../../../local/process/heartbeat';
import { testStack } from '../../support/local-stack';

/** The components that move events after the store: every local service except the API and Step Functions. */
export function pipelineComponents(): ComponentName[] {
  return (Object.keys(COMPONENTS) as ComponentName[]).filter(
    (name) => COMPONENTS[name].phase === 'service' && !['api', 'stepfunctions'].includes(name),
  );
}

export function pidOf(name: ComponentName): number {
  const beat = readHeartbeat(testStack().dataDir, name);
  if (!beat || !isFresh(beat)) throw new Error(`${name} is not running (no fresh heartbeat)`);
  return beat.pid;
}

export async function waitUntilRunning(name: ComponentName, notPid?: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const beat = readHeartbeat(testStack().dataDir, name);
    if (beat && isFresh(beat) && beat.pid !== notPid) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${name} did not come back within ${timeoutMs} ms`);
}

/**
 * The Java process of DynamoDB Local: the `dynamodb` component's heartbeat names the Node.js process that owns it,
 * and freezing that one would leave the emulator answering.
 */
export function dynamoDbJavaPid(): number {
  const pid = Number(readFileSync(dynamoDbJavaPidFile(testStack().dataDir), 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0) throw new Error('no DynamoDB Local pid file: is the stack running?');
  return pid;
}

/** Freezes a process (as an unreachable service: connections hang) for the given time, then thaws it. */
export async function freeze(name: ComponentName | 'dynamodb-java', ms: number): Promise<void> {
  const pid = name === 'dynamodb-java' ? dynamoDbJavaPid() : pidOf(name);
  process.kill(pid, 'SIGSTOP');
  try {
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}
