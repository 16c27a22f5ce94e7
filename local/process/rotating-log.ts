import { appendFileSync, renameSync, statSync } from 'node:fs';

/** A component's log file stops here and starts again, its previous part kept once as `<file>.1`. */
export const MAX_LOG_BYTES = 16 * 1024 * 1024;

/**
 * An append-only log file that never grows past `maxBytes`: when a line would take it over, the file becomes
 * `<file>.1` (replacing the part before) and a new one starts. A long-running `npm start` keeps at most twice
 * `maxBytes` per component instead of everything since the stack's data folder was made.
 */
export class RotatingLog {
  private size: number;

  constructor(
    private readonly file: string,
    private readonly maxBytes = MAX_LOG_BYTES,
  ) {
    this.size = sizeOf(file);
  }

  append(line: string): void {
    const text = `${line}\n`;
    const bytes = Buffer.byteLength(text);
    if (this.size > 0 && this.size + bytes > this.maxBytes) {
      renameSync(this.file, `${this.file}.1`);
      this.size = 0;
    }
    appendFileSync(this.file, text);
    this.size += bytes;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
