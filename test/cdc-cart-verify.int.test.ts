/**
 * Starts a local stack of its own, so it runs beside other files (test/support/shared-stack-environment.ts).
 * @stack isolated
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { kinesisClient } from '../adapters/aws-clients';
import { JsonLinesDeadLetterInbox } from '../adapters/dead-letters/json-lines-dead-letter-inbox';
import { PIPE_DEAD_LETTER_SOURCE } from '../local/pipe/local-pipe';
import { localDeadLetterFile } from '../local/config';
import { startIsolatedStack, type IsolatedStack } from '../local/isolated-stack';

const run = promisify(execFile);
const BIN = resolve(__dirname, '..', 'bin', 'cdc-cart.cjs');
const HOPS = ['api', 'event-store', 'kinesis', 'event-log', 'projections', 'archive', 'replay', 'dead-letters'];

jest.setTimeout(240_000);

/**
 * `cdc-cart verify` against a stack of its own: freezing its archiver must not touch the run's shared stack, whose
 * archive other test files read at the same time, and a dead letter another file provokes on purpose must not
 * fail this file's dead-letters hop.
 */
let own: IsolatedStack;

beforeAll(async () => {
  const lines: string[] = [];
  try {
    own = await startIsolatedStack({ name: 'verify', log: (line) => lines.push(line) });
  } catch (error) {
    console.error(lines.slice(-30).join('\n'));
    throw error;
  }
});

afterAll(async () => {
  own?.stack.thaw('archiver');
  await own?.stop();
});

async function verify(...args: string[]): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, 'verify', ...args], { env: { ...process.env, ...own.environment } });
    return { code: 0, stdout, stderr, ms: Date.now() - started };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr, ms: Date.now() - started };
  }
}

describe('cdc-cart verify', () => {
  // On a quiet machine verify's default run (--timeout 45 locally, inside the 60 s it promises) ends every hop ok in
  // 5-15 s (docs/cli.md); on a loaded machine (load average 15-19) the archive hop once needed more than 45 s. So
  // the test gives it a busy machine's deadline and asserts no time: a timed test would fail on a slow machine, not
  // on a slow verify.
  it('prints every hop ok, in order, and exits 0', async () => {
    const result = await verify('--timeout', '180');
    // stdout rides along so that a failure shows each hop's line (how many events the archive had, and where).
    expect({ code: result.code, stderr: result.stderr, stdout: result.stdout }).toMatchObject({ code: 0, stderr: expect.stringContaining('every hop ok') });
    const lines = result.stdout.trim().split('\n');
    expect(lines.map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(HOPS.map((hop) => `ok ${hop}`));
    expect(lines.every((line) => /^ok \S+ \d+ \S/.test(line))).toBe(true);
    // The probe cart carries the reserved prefix, and stays out of the business ranking.
    const cartId = /probe cart (\S+)/.exec(result.stderr)![1]!;
    expect(cartId.startsWith('00000000-')).toBe(true);
    const top = (await (await fetch(`http://127.0.0.1:${own.config.ports.api}/read/items/top`)).json()) as { items: { sku: string }[] };
    expect(top.items.map((item) => item.sku)).not.toContain('verify-probe');
  });

  it('with the archiver frozen, exits 1 and its FAIL line names archive (and its likely causes)', async () => {
    own.stack.freeze('archiver');
    try {
      const result = await verify('--timeout', '20', '--json');
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as { ok: boolean; hops: { hop: string; ok: boolean; detail: string; likelyCauses?: string[] }[] };
      expect(report.hops.map((hop) => hop.hop)).toEqual(HOPS);
      expect(report.hops.filter((hop) => !hop.ok).map((hop) => hop.hop)).toEqual(['archive', 'replay']);
      expect(report.hops.find((hop) => hop.hop === 'archive')!.likelyCauses!.join(' ')).toContain('archiver');
      const text = await verify('--timeout', '8');
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/^FAIL archive \d+ not within --timeout/m);
      expect(text.stdout).toMatch(/^ok projections /m);
    } finally {
      own.stack.thaw('archiver');
    }
  });

  it('refuses a bad --timeout, and --alarm-check without --aws, with exit 2', async () => {
    expect(await verify('--timeout', 'soon')).toMatchObject({ code: 2, stderr: expect.stringContaining('--timeout takes a number of seconds') });
    expect(await verify('--alarm-check')).toMatchObject({ code: 2, stderr: expect.stringContaining('--alarm-check goes with --aws') });
  });

  // Last in this file: the stack's events stream stays deleted. On AWS a Pipe whose Kinesis target is gone has every
  // PutRecords answered ResourceNotFoundException; Pipes retries the batch MaximumRetryAttempts times, then sends it
  // to its dead-letter queue ("Pipes error handling and troubleshooting"). The local Pipe runner does the same.
  it("with the Pipe's target failing (its stream deleted), exits 1 naming kinesis, and the Pipe dead-letters the batch after its retries", async () => {
    const inbox = new JsonLinesDeadLetterInbox(localDeadLetterFile(own.config));
    const pipeLettersBefore = (await inbox.pending()).filter((letter) => letter.source === PIPE_DEAD_LETTER_SOURCE).length;
    await kinesisClient().send(new DeleteStreamCommand({ StreamName: own.config.resources.eventsStream }));
    const result = await verify('--timeout', '90');
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ok api /m);
    expect(result.stdout).toMatch(/^ok event-store /m);
    // The first FAIL is the kinesis hop: as soon as the Pipe gave up on the probe's batch (its dead letter), not at
    // the end of --timeout; then the Pipe's dead letters among the likely causes.
    const firstFail = result.stdout.split('\n').find((line) => line.startsWith('FAIL '));
    expect(firstFail).toMatch(/^FAIL kinesis \d+ the stream could not be read \(ResourceNotFoundException.*\), and the Pipe sent \d+ batch\(es\) to its dead-letter queue \(pipe\) meanwhile$/);
    expect(result.stdout).toMatch(/^FAIL kinesis [^\n]*\n {7}likely: the pipe component/m);
    // The batches with the probe's two stream records (nothing else writes to this stack) reach the Pipe's dead
    // letters once their retries are spent (10, backing off). A letter holds the batch's shard and sequence range, as
    // AWS's does, not the records.
    const deadline = Date.now() + 90_000;
    let letters: Awaited<ReturnType<typeof inbox.pending>> = [];
    for (;;) {
      letters = (await inbox.pending()).filter((letter) => letter.source === PIPE_DEAD_LETTER_SOURCE).slice(pipeLettersBefore);
      const records = letters.reduce((sum, letter) => sum + Number((letter.ids as { batchSize?: number } | undefined)?.batchSize ?? 0), 0);
      if (records >= 2 || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    expect(letters.length).toBeGreaterThan(0);
    // A letter names the last attempt's refusal: the deleted stream's, or under CHAOS a partial failure chaos put on
    // that attempt (a quiet fresh-clone run saw one).
    for (const letter of letters) {
      expect(letter.reason).toMatch(/^Kinesis refused \d+ of \d+ record\(s\): (ResourceNotFoundException|ProvisionedThroughputExceededException: .*\(chaos: kinesis-partial-failure\)).*\(RetryAttemptsExhausted after 11 attempt\(s\)\)$/);
    }
  });
});
