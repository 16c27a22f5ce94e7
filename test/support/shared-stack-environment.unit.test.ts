import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract, parse } from 'jest-docblock';
import { acquire, release } from './shared-stack-environment';

const TEST_DIR = join(__dirname, '..');

describe('the project\'s testTimeout is in force (jest-circus alone would read only the global one)', () => {
  test('a unit test file starts with the unit project\'s 30 s, not jest\'s default 5 s', () => {
    expect((globalThis as unknown as Record<symbol, unknown>)[Symbol.for('TEST_TIMEOUT_SYMBOL')]).toBe(30_000);
  });
});

describe('integration files on the shared stack take turns', () => {
  test('a file declares @stack isolated exactly when it starts a stack of its own', () => {
    const files = readdirSync(TEST_DIR).filter((name) => name.endsWith('.int.test.ts'));
    const mismatched = files.filter((name) => {
      const source = readFileSync(join(TEST_DIR, name), 'utf8');
      const declared = parse(extract(source)).stack === 'isolated';
      return declared !== source.includes('startIsolatedStack(');
    });
    expect(files.length).toBeGreaterThan(10);
    expect(mismatched).toEqual([]);
  });

  test('while one holder has the lock the next waits, and gets it once it is released', async () => {
    const lock = join(mkdtempSync(join(tmpdir(), 'shared-stack-lock-')), 'lock');
    await acquire(lock);
    let second = false;
    const waiting = acquire(lock).then(() => (second = true));
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(second).toBe(false);
    release(lock);
    await waiting;
    expect(second).toBe(true);
  });

  test('a lock whose holder died is taken over', async () => {
    const lock = join(mkdtempSync(join(tmpdir(), 'shared-stack-lock-')), 'lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    mkdirSync(lock);
    writeFileSync(join(lock, 'owner'), dead);
    await acquire(lock);
    expect(readFileSync(join(lock, 'owner'), 'utf8')).toBe(String(process.pid));
  });
});
