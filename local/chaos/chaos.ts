import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Delivery faults that AWS documents and the local stand-ins can inject on purpose (`npm start -- --chaos`, or
 * CHAOS=... for any stack). Each is something a consumer of this project must survive on AWS; see
 * docs/delivery-guarantees.md for the documentation behind each one.
 */
export const CHAOS_FAULTS = [
  /** The Pipe delivers a batch again through the enrichment after the target took it (duplicates). */
  'pipe-redelivery',
  /** PutRecords refuses some records of a batch; the Pipe retries the batch through the enrichment (reordering). */
  'kinesis-partial-failure',
  /** A cart's stream records reach the Pipe out of version order (as across shards, or within a transaction). */
  'stream-reorder',
  /** A consumer's invocation times out after its handler ran; the mapping delivers the records again. */
  'consumer-redelivery',
  /** Firehose writes a record twice (at-least-once). */
  'archive-duplicate',
  /** Firehose archives a copy that a replay republished (metadata.replayed). */
  'archive-replayed-copy',
  /** Firehose archives a line that is not an event envelope (it validates nothing). */
  'archive-junk-line',
  /** An object straddles an hour boundary: a record sits under the previous hour, that of the object's oldest record. */
  'archive-arrival-hour-key',
  /**
   * A write by the project's own DynamoDB, Kinesis or S3 client is applied, then answered 500 or timed out; the
   * SDK retries it (local/chaos/aws-call-faults.ts, at the SDK's HTTP handler).
   */
  'ambiguous-write',
  /** A consumer's or a replay step's AWS call is held for seconds (a slow or throttled call, a frozen sandbox). */
  'stall',
] as const;

export type ChaosFault = (typeof CHAOS_FAULTS)[number];
export type ChaosRates = Partial<Record<ChaosFault, number>>;
export type ChaosCounts = Record<ChaosFault, number>;

/**
 * The rates `--chaos` (or CHAOS=all) uses: per batch, per invocation, per record or per object as each fault
 * applies, high enough that every fault happens within a minute of light traffic (a few commands a second).
 */
export const DEFAULT_CHAOS_RATES: Readonly<Record<ChaosFault, number>> = {
  'pipe-redelivery': 0.2,
  'kinesis-partial-failure': 0.2,
  'stream-reorder': 0.5,
  'consumer-redelivery': 0.1,
  'archive-duplicate': 0.05,
  'archive-replayed-copy': 0.05,
  'archive-junk-line': 0.2,
  'archive-arrival-hour-key': 0.05,
  'ambiguous-write': 0.02,
  stall: 0.01,
};

/** The environment variable: `all`, or `fault=rate,...` (rates 0..1), or `all,fault=rate` to change one. */
export const CHAOS_VARIABLE = 'CHAOS';

export function parseChaos(spec: string | undefined): ChaosRates {
  const rates: ChaosRates = {};
  const text = (spec ?? '').trim();
  if (text === '' || text === 'off' || text === '0' || text === 'false') return rates;
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    if (part === 'all' || part === 'on' || part === 'true' || part === '1') {
      Object.assign(rates, DEFAULT_CHAOS_RATES);
      continue;
    }
    const [name, raw] = part.split('=');
    if (!(CHAOS_FAULTS as readonly string[]).includes(name!)) {
      throw new Error(`${CHAOS_VARIABLE}: unknown fault "${name}"; known: all, ${CHAOS_FAULTS.join(', ')}`);
    }
    const rate = raw === undefined ? DEFAULT_CHAOS_RATES[name as ChaosFault] : Number(raw);
    if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error(`${CHAOS_VARIABLE}: the rate of ${name} must be a number from 0 to 1, got "${raw}"`);
    rates[name as ChaosFault] = rate;
  }
  return rates;
}

export function describeChaos(rates: ChaosRates): string {
  const on = CHAOS_FAULTS.filter((fault) => (rates[fault] ?? 0) > 0);
  return on.length === 0 ? 'off' : on.map((fault) => `${fault}=${rates[fault]}`).join(',');
}

/**
 * One process's fault injector: decides whether a fault happens now and counts each one it injects in a file
 * of the data folder (dataDir/chaos/<component>-<pid>.json), which tests and the reliability summary read.
 */
export class Chaos {
  private readonly counts: ChaosCounts = emptyCounts();

  constructor(
    readonly rates: ChaosRates,
    private readonly countsFile?: string,
    private readonly random: () => number = Math.random,
  ) {}

  static calm(): Chaos {
    return new Chaos({});
  }

  get enabled(): boolean {
    return CHAOS_FAULTS.some((fault) => (this.rates[fault] ?? 0) > 0);
  }

  /** True (and counted) with the fault's rate. */
  happens(fault: ChaosFault): boolean {
    const rate = this.rates[fault] ?? 0;
    if (rate <= 0 || this.random() >= rate) return false;
    this.count(fault);
    return true;
  }

  /** A random integer in [0, n). */
  pick(n: number): number {
    return Math.min(n - 1, Math.floor(this.random() * n));
  }

  count(fault: ChaosFault, n = 1): void {
    this.counts[fault] += n;
    if (this.countsFile) {
      mkdirSync(join(this.countsFile, '..'), { recursive: true });
      // Replaced whole (write, rename): a reader never sees a torn file.
      writeFileSync(`${this.countsFile}.tmp`, JSON.stringify(this.counts));
      renameSync(`${this.countsFile}.tmp`, this.countsFile);
    }
  }

  injected(): Readonly<ChaosCounts> {
    return this.counts;
  }
}

export function chaosDir(dataDir: string): string {
  return join(dataDir, 'chaos');
}

/** The injector of a local component, from CHAOS in its environment. */
export function chaosFromEnvironment(component: string, dataDir: string, env: NodeJS.ProcessEnv = process.env): Chaos {
  return new Chaos(parseChaos(env[CHAOS_VARIABLE]), join(chaosDir(dataDir), `${component}-${process.pid}.json`));
}

/** Every fault injected so far by every component of the stack whose data folder this is (restarts included). */
export function readChaosCounts(dataDir: string): ChaosCounts {
  const total = emptyCounts();
  let files: string[] = [];
  try {
    files = readdirSync(chaosDir(dataDir)).filter((file) => file.endsWith('.json'));
  } catch {
    return total;
  }
  for (const file of files) {
    try {
      const counts = JSON.parse(readFileSync(join(chaosDir(dataDir), file), 'utf8')) as Partial<ChaosCounts>;
      for (const fault of CHAOS_FAULTS) total[fault] += Number(counts[fault] ?? 0);
    } catch {
      // removed while listed: nothing to count
    }
  }
  return total;
}

function emptyCounts(): ChaosCounts {
  return Object.fromEntries(CHAOS_FAULTS.map((fault) => [fault, 0])) as ChaosCounts;
}
