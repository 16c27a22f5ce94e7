import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RotatingLog } from './rotating-log';

describe('RotatingLog (a component\'s log file under the stack\'s data folder)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rotating-log-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps appending below the limit, then moves the file to .1 and starts a new one', () => {
    const file = join(dir, 'api.log');
    const log = new RotatingLog(file, 30);
    for (const line of ['line 1', 'line 2', 'line 3', 'line 4']) log.append(line); // 7 bytes each
    expect(readFileSync(file, 'utf8')).toBe('line 1\nline 2\nline 3\nline 4\n');
    log.append('line 5');
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('line 1\nline 2\nline 3\nline 4\n');
    expect(readFileSync(file, 'utf8')).toBe('line 5\n');
  });

  it('counts what a file already holds (a restarted stack appends to its old logs) and keeps one old part only', () => {
    const file = join(dir, 'pipe.log');
    writeFileSync(file, 'x'.repeat(25));
    writeFileSync(`${file}.1`, 'oldest part');
    new RotatingLog(file, 30).append('0123456789');
    expect(readFileSync(`${file}.1`, 'utf8')).toBe('x'.repeat(25));
    expect(readFileSync(file, 'utf8')).toBe('0123456789\n');
    expect(existsSync(`${file}.2`)).toBe(false);
  });

  it('writes a line longer than the limit whole', () => {
    const file = join(dir, 'long.log');
    new RotatingLog(file, 10).append('a line of more than ten bytes');
    expect(readFileSync(file, 'utf8')).toBe('a line of more than ten bytes\n');
  });
});
