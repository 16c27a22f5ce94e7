import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { dynamoDbClient, kinesisClient, s3Client } from '../adapters/aws-clients';
import { CANARY_INTERVAL_VARIABLE, parseCanaryInterval } from './canary/canary-loop';
import { CHAOS_VARIABLE, describeChaos, parseChaos } from './chaos/chaos';
import { COMPONENTS, serviceComponents, type ComponentName } from './components';
import { handlerEnvironment, portEnvironment, type LocalConfig } from './config';
import { DYNAMODB_IN_MEMORY, javaMajorVersion } from './emulators/dynamodb-local';
import { LAMBDA_BUNDLES_VARIABLE } from './lambda/invoke';
import { RotatingLog } from './process/rotating-log';
import { ensureLocalResources } from './resources';

const PROJECT_ROOT = resolve(__dirname, '..');
const RESTART_DELAY_MS = 1_000;
const STOP_GRACE_MS = 8_000;

type ProcessName = ComponentName;

interface Child {
  readonly name: ProcessName;
  process: ChildProcess;
  ready: Promise<void>;
}

export interface LocalStackOptions {
  /** Wipe the data folder first. */
  readonly fresh?: boolean;
  readonly log?: (line: string) => void;
  /**
   * DynamoDB Local keeps its tables in memory (-inMemory) instead of under the data folder: about twice the write
   * throughput on this kind of machine, nothing survives a restart of it. For throwaway stacks (the benchmark);
   * `npm start` keeps its data.
   */
  readonly inMemoryDynamoDb?: boolean;
  /** Run the Lambda handlers from these bundles (local/lambda/bundle.ts) instead of the TypeScript sources. */
  readonly lambdaBundlesDir?: string;
  /**
   * Also show what the components print on stdout (their activity: DynamoDB Local's banner, one event-log line
   * per event, each archived object). Without it only their stderr is shown: the errors and warnings that need
   * attention.
   */
  readonly verbose?: boolean;
  /**
   * Delivery faults the stand-ins inject (local/chaos/chaos.ts): `all`, `off`, or `fault=rate,...`. Default: the
   * CHAOS environment variable, else off.
   */
  readonly chaos?: string;
  /**
   * Seconds between canary runs (local/canary), 0 for none. Default: the CANARY_INTERVAL_SECONDS variable, else 60
   * (`npm start`); test stacks (local/isolated-stack.ts) default to 0.
   */
  readonly canaryIntervalSeconds?: number;
}

/**
 * Starts, wires and stops every local component: DynamoDB Local (Java), then the Node.js emulators, then the
 * services. Each runs in its own process, restarted if it dies, all stopped together on stop().
 */
export class LocalStack {
  private readonly children = new Map<ProcessName, Child>();
  private stopping = false;
  /** Set once this stack holds the data folder's lock: only then is the lock its to remove. */
  private holdsLock = false;
  private readonly log: (line: string) => void;
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly config: LocalConfig,
    private readonly options: LocalStackOptions = {},
  ) {
    this.log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
    this.env = {
      ...process.env,
      ...handlerEnvironment(config),
      ...portEnvironment(config),
      LOCAL_DATA_DIR: config.dataDir,
      LOCAL_SERVICES: serviceComponents().join(','),
      ...(options.inMemoryDynamoDb ? { [DYNAMODB_IN_MEMORY]: 'true' } : {}),
      [CHAOS_VARIABLE]: describeChaos(parseChaos(options.chaos ?? process.env[CHAOS_VARIABLE])),
      ...(options.lambdaBundlesDir ? { [LAMBDA_BUNDLES_VARIABLE]: options.lambdaBundlesDir } : {}),
      [CANARY_INTERVAL_VARIABLE]: String(options.canaryIntervalSeconds ?? parseCanaryInterval(process.env[CANARY_INTERVAL_VARIABLE])),
    };
  }

  /** Seconds between canary runs, 0 when off. */
  get canaryIntervalSeconds(): number {
    return Number(this.env[CANARY_INTERVAL_VARIABLE]);
  }

  /** The faults this stack injects (`off` when calm). */
  get chaos(): string {
    return this.env[CHAOS_VARIABLE]!;
  }

  async start(): Promise<void> {
    const java = javaMajorVersion();
    if (java === undefined || java < 17) {
      throw new Error(
        `DynamoDB Local needs Java 17 or newer (${java === undefined ? 'no java found on PATH' : `found Java ${java}`}). ` +
          'Install one, e.g. `sudo apt-get install openjdk-17-jre-headless`, then run again.',
      );
    }
    this.claimDataDir();
    Object.assign(process.env, handlerEnvironment(this.config));

    await Promise.all(this.namesInPhase('emulator').map((name) => this.spawnChild(name)));
    await ensureLocalResources(this.config, { dynamodb: dynamoDbClient(), kinesis: kinesisClient(), s3: s3Client() });
    await Promise.all(this.namesInPhase('service').map((name) => this.spawnChild(name)));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const order: ProcessName[][] = [this.namesInPhase('service'), this.namesInPhase('emulator')];
    for (const group of order) await Promise.all(group.map((name) => this.stopChild(name)));
    // A start refused by another stack's lock must leave that lock in place.
    if (this.holdsLock) rmSync(this.lockFile(), { force: true });
  }

  /**
   * Freezes a component (SIGSTOP): it stays alive, holds its positions and does nothing, as a hung process on AWS
   * would. For tests that prove a check notices (cdc-cart verify with the archiver frozen); thaw() resumes it.
   */
  freeze(name: ComponentName): void {
    this.children.get(name)?.process.kill('SIGSTOP');
  }

  thaw(name: ComponentName): void {
    this.children.get(name)?.process.kill('SIGCONT');
  }

  private namesInPhase(phase: 'emulator' | 'service'): ComponentName[] {
    return (Object.keys(COMPONENTS) as ComponentName[]).filter((name) => COMPONENTS[name].phase === phase);
  }

  private async spawnChild(name: ProcessName, restart = false): Promise<void> {
    const started = Date.now();
    const child = await this.spawnNode(name);
    this.children.set(name, child);
    let ready = false;
    child.process.once('exit', (code, signal) => {
      // A component that dies before it is ready during the first start fails start() itself: no restart.
      if (this.stopping || (!ready && !restart)) return;
      this.log(`[stack] ${name} exited (${signal ?? `code ${code}`}); restarting in ${RESTART_DELAY_MS} ms`);
      setTimeout(() => {
        if (!this.stopping) this.spawnChild(name, true).catch((error) => this.log(`[stack] ${name} failed to restart: ${error}`));
      }, RESTART_DELAY_MS);
    });
    await child.ready;
    ready = true;
    this.log(`[stack] ${name} ${restart ? 'restarted' : 'ready'} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }

  private async spawnNode(name: ComponentName): Promise<Child> {
    const component = await COMPONENTS[name].load();
    const process = spawn(
      globalThis.process.execPath,
      [...(component.nodeOptions ?? []), '--import', 'tsx', join(PROJECT_ROOT, 'local', 'run-component.ts'), name],
      // A process group of its own: a Ctrl-C in the terminal reaches only this supervisor, which then stops the
      // services before the emulators they talk to (a component whose supervisor dies exits on disconnect).
      { cwd: PROJECT_ROOT, env: this.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], detached: true },
    );
    this.pipeOutput(name, process);
    const ready = new Promise<void>((resolve, reject) => {
      process.on('message', (message: { type?: string }) => message?.type === 'ready' && resolve());
      process.once('exit', (code, signal) => reject(new Error(`${name} exited before it was ready (${signal ?? `code ${code}`})`)));
    });
    ready.catch(() => undefined);
    return { name, process, ready };
  }

  private async stopChild(name: ProcessName): Promise<void> {
    const child = this.children.get(name);
    if (!child || child.process.exitCode !== null || child.process.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.process.once('exit', () => resolve()));
    child.process.kill('SIGTERM');
    const timer = setTimeout(() => child.process.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Each component's output goes to the stack's log and to dataDir/logs/<component>.log (the event log reads there). */
  private pipeOutput(name: ProcessName, child: ChildProcess): void {
    mkdirSync(join(this.config.dataDir, 'logs'), { recursive: true });
    const file = new RotatingLog(join(this.config.dataDir, 'logs', `${name}.log`));
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      // stdout (activity) is shown with --verbose only; stderr (errors, warnings) always; the log file keeps both.
      const shown = this.options.verbose || stream === child.stderr;
      createInterface({ input: stream }).on('line', (line) => {
        if (shown) this.log(`[${name}] ${line}`);
        try {
          file.append(line);
        } catch {
          // the data folder is being removed at stop: the line was shown anyway
        }
      });
    }
  }

  private lockFile(): string {
    return join(this.config.dataDir, 'stack.pid');
  }

  /** One stack per data folder: two DynamoDB Locals on one -dbPath corrupt it. */
  private claimDataDir(): void {
    const lock = this.lockFile();
    if (existsSync(lock)) {
      const pid = Number(readFileSync(lock, 'utf8'));
      if (pid !== process.pid && isAlive(pid)) {
        throw new Error(`another local stack (pid ${pid}) is using ${this.config.dataDir}; stop it first, or set LOCAL_DATA_DIR`);
      }
    }
    if (this.options.fresh) rmSync(this.config.dataDir, { recursive: true, force: true });
    mkdirSync(this.config.dataDir, { recursive: true });
    writeFileSync(lock, String(process.pid));
    this.holdsLock = true;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
