import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DeadLetter, DeadLetterQueue } from '../../application/dead-letters';

/**
 * The local dead-letter destination: one JSON object per line, appended. Several processes may append to the
 * same file (the Pipe runner, the enrichment it invokes, the Kinesis consumers): each send is one append of
 * whole lines, which the OS does not interleave with another process's append.
 */
export class JsonLinesDeadLetterStore implements DeadLetterQueue {
  constructor(readonly file: string) {}

  async send(letters: readonly DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    await mkdir(dirname(this.file), { recursive: true });
    await appendFile(this.file, letters.map((letter) => `${JSON.stringify(letter)}\n`).join(''), { flush: true });
  }

  /** Every letter, oldest first. A line that is not JSON (a torn write after a crash) is reported, not hidden. */
  async list(): Promise<DeadLetter[]> {
    return (await this.lines()).map(({ letter }) => letter);
  }

  /** Every letter with the line it was read from. */
  async lines(): Promise<{ line: string; letter: DeadLetter }[]> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, index) => {
        try {
          return { line, letter: JSON.parse(line) as DeadLetter };
        } catch {
          return { line, letter: { source: 'dead-letter-store', reason: `line ${index + 1} of ${this.file} is not JSON`, failedAt: '', payload: line } };
        }
      });
  }
}
