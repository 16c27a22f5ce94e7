import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC } from '../lambdas/metric-names';
import { PROJECT_ROOT } from './constructs/registry-functions';

/** The dashboard reads the names of lambdas/metric-names.ts: a handler emitting another name would chart nothing. */
function handlerSources(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return handlerSources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [{ file: path, text: readFileSync(path, 'utf8') }] : [];
  });
}

test('every custom metric a handler emits by literal name is one of lambdas/metric-names.ts', () => {
  const known = new Set<string>(Object.values(METRIC).map((metric) => metric.name));
  const emitted = handlerSources(join(PROJECT_ROOT, 'lambdas')).flatMap(({ file, text }) =>
    [...text.matchAll(/addMetric\(\s*(?:'([A-Za-z]+)'|[^,]*\?\s*'([A-Za-z]+)'\s*:\s*'([A-Za-z]+)')/g)].flatMap((match) =>
      match.slice(1).filter(Boolean).map((name) => ({ file, name })),
    ),
  );
  expect(emitted.length).toBeGreaterThan(0);
  for (const { file, name } of emitted) expect({ file, name, known: known.has(name!) }).toEqual({ file, name, known: true });
});
