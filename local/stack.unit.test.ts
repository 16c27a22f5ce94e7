import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocalConfig } from './config';
import { LocalStack } from './stack';

describe('the data folder lock', () => {
  let dataDir: string;
  let otherStack: ChildProcess;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'stack-lock-'));
    otherStack = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    writeFileSync(join(dataDir, 'stack.pid'), String(otherStack.pid));
  });
  afterEach(() => {
    otherStack.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a second stack on a folder in use is refused, and its stop leaves the running stack its lock', async () => {
    const second = new LocalStack(loadLocalConfig({ LOCAL_DATA_DIR: dataDir }), { log: () => undefined });
    await expect(second.start()).rejects.toThrow(`another local stack (pid ${otherStack.pid}) is using ${dataDir}; stop it first, or set LOCAL_DATA_DIR`);
    await second.stop();
    expect(existsSync(join(dataDir, 'stack.pid'))).toBe(true);
    expect(readFileSync(join(dataDir, 'stack.pid'), 'utf8')).toBe(String(otherStack.pid));
  });
});
