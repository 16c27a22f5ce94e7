/**
 * Starts a local stack of its own, so it runs beside other files (test/support/shared-stack-environment.ts).
 * @stack isolated
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { startIsolatedStack, type IsolatedStack } from '../local/isolated-stack';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');

jest.setTimeout(240_000);

// The tour is written for a fresh `npm start` (no dead letters yet, carts of its own): it gets a stack of its
// own rather than the shared one, where other tests leave dead letters on purpose.
let stack: IsolatedStack;
beforeAll(async () => {
  // Chaos off, as a newcomer's `npm start` runs: the tour checks the README's exact answers, and chaos's lost answer
  // on an Idempotency-Key's lock write turns step 13 into a 409 IDEMPOTENT_REQUEST_IN_PROGRESS (a fresh-clone run).
  stack = await startIsolatedStack({ name: 'tour', chaos: 'off', log: () => undefined });
});
afterAll(async () => {
  await stack?.stop();
});

test("npm run tour: every step of the README's five-minute tour answers what the README shows", async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'cli/tour.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...stack.environment },
  }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
    throw new Error(`the tour failed:\n${error.stdout ?? ''}\n${error.stderr ?? error.message}`);
  });
  expect(stdout).toMatch(/All \d+ steps answered what the README shows/);
});
