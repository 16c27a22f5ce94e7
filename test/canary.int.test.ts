/**
 * Starts a local stack of its own, so it runs beside other files (test/support/shared-stack-environment.ts).
 * @stack isolated
 */
import type { Page } from 'playwright-core';
import { PIPELINE_HOPS } from '../application/pipeline-verification';
import { readCanaryState, type CanaryState } from '../local/canary/canary-loop';
import { endpointOf } from '../local/config';
import { startIsolatedStack, type IsolatedStack } from '../local/isolated-stack';
import { launchBrowser, type TestBrowser } from './support/browser';

jest.setTimeout(300_000);

/**
 * The local canary as `npm start` runs it (issue 23): a component of the stack that sends a probe cart through every
 * hop on its interval and reports each run to the console's Pipeline view. On a stack of its own, with a short
 * interval: the run's shared stack keeps its canary off (local/isolated-stack.ts), and freezing this stack's archiver
 * touches no other file's archive. Its AWS calls are recorded for the IAM evidence test as the `canary` function's.
 */
let own: IsolatedStack;
let browser: TestBrowser;
let page: Page;

beforeAll(async () => {
  const lines: string[] = [];
  try {
    own = await startIsolatedStack({ name: 'canary', log: (line) => lines.push(line), canaryIntervalSeconds: 2 });
  } catch (error) {
    console.error(lines.slice(-30).join('\n'));
    throw error;
  }
  browser = await launchBrowser();
  page = await browser.context.newPage();
  page.setDefaultTimeout(90_000);
});

afterAll(async () => {
  own?.stack.thaw('archiver');
  own?.stack.thaw('canary');
  await browser?.close();
  await own?.stop();
});

/** Polls the canary's state file until a run that started after `since` has finished and passes `check`. */
async function runAfter(since: number, check: (run: NonNullable<CanaryState['lastRun']>) => boolean, timeoutMs = 150_000): Promise<NonNullable<CanaryState['lastRun']>> {
  const deadline = Date.now() + timeoutMs;
  let last: CanaryState | undefined;
  while (Date.now() < deadline) {
    last = readCanaryState(own.config.dataDir);
    const run = last?.lastRun;
    if (run && Date.parse(run.startedAt) >= since && check(run)) return run;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`no canary run after ${new Date(since).toISOString()} matched; last state: ${JSON.stringify(last)}`);
}

describe('the local canary (npm start --canary-interval)', () => {
  it('runs on its interval, every hop ok, and the console\'s Pipeline view shows the last run hop by hop', async () => {
    const started = Date.now();
    const first = await runAfter(started, (run) => run.ok);
    expect(first.hops.map((hop) => hop.hop)).toEqual([...PIPELINE_HOPS]);
    expect(first.cartId!.startsWith('00000000-')).toBe(true);
    expect(readCanaryState(own.config.dataDir)!.intervalSeconds).toBe(2);
    // It runs again by itself: a later run, another probe cart.
    const second = await runAfter(Date.parse(first.finishedAt), () => true);
    expect(second.cartId).not.toBe(first.cartId);

    // The console shows the last run, hop by hop. The canary is frozen while the page is read, so that the run the
    // page shows is the one the state file names: on a busy machine a later run may fail a hop (the archive hop waits
    // for the archiver's buffer within the run's deadline), and it would otherwise replace the run under the page.
    own.stack.freeze('canary');
    try {
      const shown = readCanaryState(own.config.dataDir)!.lastRun!;
      await page.goto(`${endpointOf(own.config.ports.api)}/console#pipeline`);
      const section = page.getByRole('region', { name: 'Canary' });
      await section.getByRole('table', { name: 'Canary hops' }).waitFor();
      const rows = section.getByRole('table', { name: 'Canary hops' }).locator('tbody tr');
      await page.waitForFunction(`document.querySelectorAll('[data-hop]').length === ${PIPELINE_HOPS.length}`);
      expect(await rows.locator('th').allTextContents()).toEqual([...PIPELINE_HOPS]);
      for (const { hop, ok } of shown.hops) {
        const cells = await section.locator(`tr[data-hop="${hop}"] td`).allTextContents();
        expect({ hop, result: cells[0], ms: /^\d+$/.test(cells[1] ?? '') }).toEqual({ hop, result: ok ? 'ok' : 'FAIL', ms: true });
      }
      expect(await section.textContent()).toMatch(/every 2 s/);
      expect(await section.textContent()).toMatch(/Last run finished \d{4}-\d\d-\d\d /);
    } finally {
      own.stack.thaw('canary');
    }
  });

  it('with the archiver frozen, a run fails archive (and replay, which needs it), and the console shows FAIL on those hops', async () => {
    const frozen = Date.now();
    own.stack.freeze('archiver');
    // Thawed only after the console was read: every run while frozen fails the same way, so what the page shows
    // cannot be overtaken by a healthy run.
    try {
      const failed = await runAfter(frozen, () => true);
      expect(failed.hops.filter((hop) => !hop.ok).map((hop) => hop.hop)).toEqual(['archive', 'replay']);
      expect(failed.hops.find((hop) => hop.hop === 'archive')!.likelyCauses!.join(' ')).toContain('archiver');

      await page.goto(`${endpointOf(own.config.ports.api)}/console#pipeline`);
      const section = page.getByRole('region', { name: 'Canary' });
      await page.waitForFunction(`document.querySelector('[data-canary]')?.dataset.canary === 'fail'`);
      expect(await section.locator('tr[data-hop="archive"] td').first().textContent()).toBe('FAIL');
      expect(await section.locator('tr[data-hop="kinesis"] td').first().textContent()).toBe('ok');
      expect(await section.textContent()).toContain('FAIL archive, replay');
      expect(await section.textContent()).toContain('likely: the archiver component');
    } finally {
      own.stack.thaw('archiver');
    }
  });
});
