import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetter } from '../../application/dead-letters';
import { JsonLinesDeadLetterInbox } from './json-lines-dead-letter-inbox';
import { JsonLinesDeadLetterStore } from './json-lines-dead-letter-store';

describe('JsonLinesDeadLetterStore', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dead-letters-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const letter = (n: number): DeadLetter => ({ source: `s${n % 3}`, reason: `reason ${n}`, failedAt: new Date(n).toISOString(), ids: { n }, payload: { big: 'x'.repeat(n * 97), n } });

  it('keeps every letter whole when several writers append at once, and lists them', async () => {
    const file = join(dir, 'nested', 'dead-letters.jsonl');
    expect(await new JsonLinesDeadLetterStore(file).list()).toEqual([]);
    const writers = [0, 1, 2, 3].map(() => new JsonLinesDeadLetterStore(file));
    await Promise.all(writers.flatMap((writer, w) => [0, 1, 2, 3, 4].map((i) => writer.send([letter(w * 10 + i), letter(w * 10 + i + 100)]))));
    const listed = await new JsonLinesDeadLetterStore(file).list();
    expect(listed).toHaveLength(40);
    expect(new Set(listed.map((l) => (l.ids as { n: number }).n)).size).toBe(40);
    expect(listed.find((l) => (l.ids as { n: number }).n === 113)).toEqual(letter(113));
  });

  it('reports a torn line instead of hiding it', async () => {
    const file = join(dir, 'dead-letters.jsonl');
    const store = new JsonLinesDeadLetterStore(file);
    await store.send([letter(1)]);
    appendFileSync(file, '{"source":"pipe","rea');
    const listed = await store.list();
    expect(listed[0]).toEqual(letter(1));
    expect(listed[1]).toMatchObject({ source: 'dead-letter-store', reason: expect.stringContaining('line 2') });
  });
});

describe('JsonLinesDeadLetterInbox', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'dead-letter-inbox-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('removes a letter without rewriting the letters file, and keeps ids stable as letters are appended', async () => {
    const file = join(dir, 'dead-letters.jsonl');
    const store = new JsonLinesDeadLetterStore(file);
    const inbox = new JsonLinesDeadLetterInbox(file);
    const letter = (n: number): DeadLetter => ({ source: 'pipe', reason: `r${n}`, failedAt: '', payload: { n } });
    await store.send([letter(1), letter(2)]);
    const [first, second] = await inbox.pending();
    const before = readFileSync(file, 'utf8');
    await inbox.remove([first!.id]);
    await store.send([letter(3)]);
    expect(readFileSync(file, 'utf8').startsWith(before)).toBe(true);
    const pending = await inbox.pending();
    expect(pending.map((l) => l.reason)).toEqual(['r2', 'r3']);
    expect(pending[0]!.id).toBe(second!.id);
  });
});
