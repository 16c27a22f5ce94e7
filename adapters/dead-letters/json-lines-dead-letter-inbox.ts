import { createHash } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import type { DeadLetterInbox, StoredDeadLetter } from '../../application/dead-letter-redrive';
import { JsonLinesDeadLetterStore } from './json-lines-dead-letter-store';

/**
 * The local dead letters as an operator works through them. The letters file is only ever appended to (by the
 * Pipe, the enrichment and the consumers, from other processes), so removing a letter must not rewrite it: a
 * rewrite would race those appends and could lose a letter. Instead the ids of redriven letters are appended to
 * a second file beside it, and a letter listed there is no longer pending. An id is the letter's line number and
 * a digest of the line, stable because lines never move.
 */
export class JsonLinesDeadLetterInbox implements DeadLetterInbox {
  readonly removedFile: string;
  private readonly store: JsonLinesDeadLetterStore;

  constructor(readonly file: string) {
    this.store = new JsonLinesDeadLetterStore(file);
    this.removedFile = `${file}.redriven`;
  }

  async pending(): Promise<StoredDeadLetter[]> {
    const [lines, removed] = await Promise.all([this.store.lines(), this.removedIds()]);
    return lines.map(({ line, letter }, index) => ({ ...letter, id: letterId(index, line) })).filter((letter) => !removed.has(letter.id));
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await appendFile(this.removedFile, ids.map((id) => `${id}\n`).join(''), { flush: true });
  }

  private async removedIds(): Promise<Set<string>> {
    try {
      return new Set((await readFile(this.removedFile, 'utf8')).split('\n').filter(Boolean));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
      throw error;
    }
  }
}

function letterId(index: number, line: string): string {
  return `${index + 1}-${createHash('sha256').update(line).digest('hex').slice(0, 12)}`;
}
