import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { brokenLinks, documentationFiles } from './check-links';
import { githubSlug, headings, links, parseMarkdown } from './markdown';

const ROOT = resolve(__dirname, '..', '..');

describe('the documentation', () => {
  const files = documentationFiles(ROOT);

  test('covers the README and the pages under docs/', () => {
    expect(files).toContain('README.md');
    expect(files.filter((file) => file.startsWith('docs/')).length).toBeGreaterThanOrEqual(5);
  });

  test('the README stays a short guide (at most 400 lines) whose map links into the pages of docs/', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(400);
    const pages = new Set(links(parseMarkdown(readme)).map(({ href }) => href.split('#')[0]).filter((href) => href!.startsWith('docs/')));
    expect(pages.size).toBeGreaterThanOrEqual(5);
  });

  test.each(files)('%s: every relative link and #anchor resolves', (file) => {
    const broken = brokenLinks(ROOT, [file]).map(({ line, href, reason }) => `${file}:${line} (${href}): ${reason}`);
    expect(broken).toEqual([]);
  });
});

describe('brokenLinks', () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'links-'));
    mkdirSync(join(root, 'docs'));
    writeFileSync(
      join(root, 'README.md'),
      [
        '# Title',
        '',
        'See [a](docs/a.md), [a section](docs/a.md#the-setup-npm-start), [here](#title), [web](https://example.com).',
        'Broken: [gone](docs/gone.md), [bad anchor](docs/a.md#nope), [own](#missing), [out](../outside.md).',
        '',
        '```md',
        '[in code](docs/not-checked.md)',
        '```',
        '![chart](docs/chart.svg)',
      ].join('\n'),
    );
    writeFileSync(join(root, 'docs', 'a.md'), '# A\n\n## The set-up: `npm start`\n\n## Twice\n\n## Twice\n\n[back](../README.md#title) [dup](#twice-1)\n');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test('reports missing files, missing headings and links leaving the repository, by file and line', () => {
    expect(brokenLinks(root, documentationFiles(root))).toEqual([
      { file: 'README.md', line: 3, href: 'docs/a.md#the-setup-npm-start', reason: 'no heading #the-setup-npm-start in docs/a.md' },
      { file: 'README.md', line: 4, href: 'docs/gone.md', reason: 'no such file: docs/gone.md' },
      { file: 'README.md', line: 4, href: 'docs/a.md#nope', reason: 'no heading #nope in docs/a.md' },
      { file: 'README.md', line: 4, href: '#missing', reason: 'no heading #missing in README.md' },
      { file: 'README.md', line: 4, href: '../outside.md', reason: 'points outside the repository' },
      { file: 'README.md', line: 9, href: 'docs/chart.svg', reason: 'no such file: docs/chart.svg' },
    ]);
  });

  test('anchors follow GitHub: punctuation dropped, spaces to hyphens, duplicates numbered', () => {
    expect(githubSlug('The set-up: `npm start`')).toBe('the-set-up-npm-start');
    expect(githubSlug('`replay`: archive -> projections or stream')).toBe('replay-archive---projections-or-stream');
    expect(githubSlug('Store layout (`CDC_STORE_LAYOUT`)')).toBe('store-layout-cdc_store_layout');
    expect(headings(parseMarkdown('## Twice\n\n## Twice\n\n## Twice\n')).map((heading) => heading.slug)).toEqual(['twice', 'twice-1', 'twice-2']);
  });
});
