import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { headings, links, parseMarkdown } from './markdown';

export interface BrokenLink {
  readonly file: string;
  readonly line: number;
  readonly href: string;
  readonly reason: string;
}

/** README.md and every Markdown file under docs/, relative to the repository root. */
export function documentationFiles(root: string): string[] {
  const docs = join(root, 'docs');
  const pages = existsSync(docs)
    ? readdirSync(docs, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.md')).map((file) => join('docs', file))
    : [];
  return ['README.md', ...pages.sort()];
}

/**
 * Relative links (files, folders and #headings) that do not resolve. Links with a scheme (https:, mailto:) are
 * not checked: this is about the repository's own pages staying consistent.
 */
export function brokenLinks(root: string, files: readonly string[]): BrokenLink[] {
  const anchorsOf = new Map<string, Set<string>>();
  const anchors = (file: string) => {
    let known = anchorsOf.get(file);
    if (!known) {
      known = new Set(headings(parseMarkdown(readFileSync(file, 'utf8'))).map((heading) => heading.slug));
      anchorsOf.set(file, known);
    }
    return known;
  };
  const broken: BrokenLink[] = [];
  for (const file of files) {
    const path = resolve(root, file);
    for (const { href, line } of links(parseMarkdown(readFileSync(path, 'utf8')))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('//')) continue;
      const reason = problemWith(root, path, href, anchors);
      if (reason) broken.push({ file, line, href, reason });
    }
  }
  return broken;
}

function problemWith(root: string, from: string, href: string, anchors: (file: string) => Set<string>): string | undefined {
  const [rawPath = '', rawAnchor] = href.split('#', 2);
  let target: string;
  try {
    target = rawPath === '' ? from : resolve(dirname(from), decodeURIComponent(rawPath));
  } catch {
    return 'not a valid URL path';
  }
  if (relative(root, target).startsWith(`..${sep}`)) return 'points outside the repository';
  if (!existsSync(target)) return `no such file: ${relative(root, target)}`;
  if (rawAnchor === undefined || rawAnchor === '') return undefined;
  if (statSync(target).isDirectory() || !target.endsWith('.md')) return `an anchor on a file that has no headings: ${relative(root, target)}`;
  const anchor = decodeURIComponent(rawAnchor);
  return anchors(target).has(anchor) ? undefined : `no heading #${anchor} in ${relative(root, target)}`;
}
