import MarkdownIt, { type Token } from 'markdown-it';

const parser = new MarkdownIt({ html: true });

export interface Heading {
  readonly level: number;
  readonly text: string;
  /** The anchor GitHub gives the heading (`#slug`), duplicates numbered -1, -2, ... as GitHub does. */
  readonly slug: string;
  readonly line: number;
}

export interface Link {
  readonly href: string;
  readonly line: number;
}

export interface FencedBlock {
  readonly info: string;
  readonly content: string;
  /** 1-based line of the block's first content line in the file. */
  readonly line: number;
}

/**
 * GitHub's heading anchor: lower case, every character that is not a letter, mark, number, connector
 * punctuation, space or hyphen dropped, spaces turned into hyphens (the rule of github-slugger, which ships as ESM
 * only and so cannot load in this project's CommonJS tests).
 */
export function githubSlug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

export function parseMarkdown(markdown: string): Token[] {
  return parser.parse(markdown, {});
}

export function headings(tokens: readonly Token[]): Heading[] {
  const seen = new Map<string, number>();
  const result: Heading[] = [];
  tokens.forEach((token, index) => {
    if (token.type !== 'heading_open') return;
    const inline = tokens[index + 1];
    const text = (inline?.children ?? []).map((child) => (child.type === 'text' || child.type === 'code_inline' ? child.content : '')).join('');
    const base = githubSlug(text);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.push({ level: Number(token.tag.slice(1)), text, slug: count === 0 ? base : `${base}-${count}`, line: (token.map?.[0] ?? 0) + 1 });
  });
  return result;
}

/** Every link and image target outside code, with its line. */
export function links(tokens: readonly Token[]): Link[] {
  const result: Link[] = [];
  let blockLine = 1;
  for (const block of tokens) {
    // Inline tokens in table cells carry no line map: the row's is the closest.
    if (block.map) blockLine = block.map[0] + 1;
    if (block.type !== 'inline') continue;
    let line = blockLine;
    for (const child of block.children ?? []) {
      if (child.type === 'softbreak' || child.type === 'hardbreak') line += 1;
      const href = child.type === 'link_open' ? child.attrGet('href') : child.type === 'image' ? child.attrGet('src') : null;
      if (href !== null) result.push({ href: String(href), line });
    }
  }
  return result;
}

/** The fenced code blocks under the heading with this exact text, up to the next heading of the same or a higher level. */
export function fencedBlocksUnder(tokens: readonly Token[], headingText: string): FencedBlock[] {
  const all = headings(tokens);
  const start = all.find((heading) => heading.text === headingText);
  if (!start) throw new Error(`no heading "${headingText}"`);
  const end = all.find((heading) => heading.line > start.line && heading.level <= start.level);
  return tokens
    .filter((token) => token.type === 'fence' && token.map)
    .filter((token) => token.map![0] + 1 > start.line && (!end || token.map![0] + 1 < end.line))
    .map((token) => ({ info: token.info.trim(), content: token.content, line: token.map![0] + 2 }));
}
