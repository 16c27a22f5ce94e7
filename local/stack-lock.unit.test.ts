import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocalConfig } from './config';
import { LocalStack } from './stack';

/** One stack per data folder: a second one (two DynamoDB Locals on one -dbPath corrupt it) is refused. */
describe('the data-folder lock', () => {
  it('refuses to start on a folder a live stack holds, before touching anything in it (not even with fresh)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lock-'));
    const holder = process.ppid; // alive, and not this process
    writeFileSync(join(dataDir, 'stack.pid'), String(holder));
    writeFileSync(join(dataDir, 'keep-me'), 'data of the running stack');
    const stack = new LocalStack(loadLocalConfig({ LOCAL_DATA_DIR: dataDir }), { fresh: true, log: () => undefined });
    await expect(stack.start()).rejects.toThrow(`another local stack (pid ${holder}) is using ${dataDir}; stop it first, or set LOCAL_DATA_DIR`);
    expect(readFileSync(join(dataDir, 'stack.pid'), 'utf8')).toBe(String(holder));
    expect(existsSync(join(dataDir, 'keep-me'))).toBe(true);
  });

  it('a refused start, once stopped, leaves the running stack its lock (a third start must be refused too)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'lock-'));
    const holder = process.ppid;
    writeFileSync(join(dataDir, 'stack.pid'), String(holder));
    const refused = new LocalStack(loadLocalConfig({ LOCAL_DATA_DIR: dataDir }), { log: () => undefined });
    await expect(refused.start()).rejects.toThrow(/another local stack/);
    await refused.stop();
    expect(readFileSync(join(dataDir, 'stack.pid'), 'utf8')).toBe(String(holder));
  });
});
