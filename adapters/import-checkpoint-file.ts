import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ImportCheckpoint, SegmentPosition } from '../application/import-seed';

/** What a checkpoint belongs to: resuming another table, layout or segmentation would skip the wrong items. */
export interface CheckpointScope {
  readonly table: string;
  readonly layout: string;
  readonly segments: number;
}

interface CheckpointFileContent extends CheckpointScope {
  readonly positions: Record<string, SegmentPosition>;
}

export class CheckpointScopeMismatch extends Error {
  override readonly name = 'CheckpointScopeMismatch';
}

/**
 * An import's checkpoint as a JSON file: each save rewrites it whole through a temporary file and a rename, so
 * that a crash leaves the previous version or the new one, never half of one. Saves are queued one after the other.
 */
export class ImportCheckpointFile implements ImportCheckpoint {
  private positions: Record<string, SegmentPosition> = {};
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    private readonly scope: CheckpointScope,
  ) {}

  /** Opens the file if it exists (it must belong to `scope`), else starts an empty checkpoint. */
  static async open(file: string, scope: CheckpointScope): Promise<ImportCheckpointFile> {
    const checkpoint = new ImportCheckpointFile(file, scope);
    let text: string | undefined;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (text !== undefined) {
      const content = JSON.parse(text) as CheckpointFileContent;
      if (content.table !== scope.table || content.layout !== scope.layout || content.segments !== scope.segments) {
        throw new CheckpointScopeMismatch(
          `checkpoint ${file} belongs to the import of ${content.table} (${content.layout}, ${content.segments} segments), not of ${scope.table} (${scope.layout}, ${scope.segments} segments)`,
        );
      }
      checkpoint.positions = { ...content.positions };
    }
    return checkpoint;
  }

  /** Segments an earlier run finished. */
  finishedSegments(): number {
    return Object.values(this.positions).filter((position) => position.done).length;
  }

  async position(segment: number): Promise<SegmentPosition> {
    return this.positions[segment] ?? {};
  }

  save(segment: number, position: SegmentPosition): Promise<void> {
    this.positions[segment] = position;
    const content: CheckpointFileContent = { ...this.scope, positions: { ...this.positions } };
    this.writing = this.writing.then(async () => {
      await writeFile(`${this.file}.tmp`, `${JSON.stringify(content, null, 2)}\n`);
      await rename(`${this.file}.tmp`, this.file);
    });
    return this.writing;
  }
}
