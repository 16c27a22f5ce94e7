import { fencedBlocksUnder, parseMarkdown } from './markdown';

/** The README section that `npm run tour` runs. */
export const TOUR_HEADING = 'Five-minute tour';
/** A comment line starting with this shows what the commands above it print. */
export const EXPECTED_MARK = '# →';

export interface TourStep {
  readonly number: number;
  /** 1-based line of the step's first command in the README. */
  readonly line: number;
  readonly commands: string;
  /** What the commands print, one entry per line; undefined: the output is not shown (only success counts). */
  readonly expected?: string;
}

/**
 * The tour's steps, in order: the shell commands of the section's `sh` blocks, each step ending where its
 * expected output (`# → ...` lines) is shown. Other comment lines and blank lines only explain.
 */
export function tourSteps(readme: string): TourStep[] {
  const steps: TourStep[] = [];
  for (const block of fencedBlocksUnder(parseMarkdown(readme), TOUR_HEADING)) {
    if (block.info !== 'sh') continue;
    let commands: string[] = [];
    let expected: string[] = [];
    let firstLine = 0;
    const flush = () => {
      if (commands.length > 0) {
        steps.push({
          number: steps.length + 1,
          line: firstLine,
          commands: commands.join('\n'),
          ...(expected.length > 0 ? { expected: expected.join('\n') } : {}),
        });
      }
      commands = [];
      expected = [];
    };
    block.content.split('\n').forEach((text, index) => {
      if (text.startsWith(EXPECTED_MARK)) {
        if (commands.length === 0) throw new Error(`README.md:${block.line + index}: an expected answer with no command above it`);
        expected.push(text.slice(EXPECTED_MARK.length).replace(/^ /, ''));
        return;
      }
      if (text.trim() === '' || text.trimStart().startsWith('#')) return;
      if (expected.length > 0) flush();
      if (commands.length === 0) firstLine = block.line + index;
      commands.push(text);
    });
    flush();
  }
  return steps;
}
