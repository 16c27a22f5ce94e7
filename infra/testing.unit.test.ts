import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTemplateForTests } from './testing';
import { PROJECT_ROOT } from './constructs/registry-functions';

describe('the default template is synthesized once per npm test', () => {
  it('npm test names a fresh synth cache for the run', () => {
    const scripts = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    const exports = scripts.test!.split('&&').map((step) => step.trim());
    const namesCache = exports.indexOf('export TEST_SYNTH_CACHE_DIR="$(mktemp -d)"');
    expect(namesCache).toBeGreaterThan(-1);
    expect(namesCache).toBeLessThan(exports.indexOf('node scripts/run-test-suites.cjs'));
  });

  it('a file reads the template another file remembered, without a synth of its own', () => {
    const saved = process.env.TEST_SYNTH_CACHE_DIR;
    const dir = mkdtempSync(join(tmpdir(), 'synth-cache-'));
    const templateFile = join(dir, 'remembered.template.json');
    writeFileSync(templateFile, JSON.stringify({ Resources: { Remembered: { Type: 'AWS::SQS::Queue', Properties: {} } } }));
    writeFileSync(join(dir, 'default-template.json'), JSON.stringify({ templateFile, violations: [] }));
    try {
      process.env.TEST_SYNTH_CACHE_DIR = dir;
      const { template, templateFile: read, violations } = defaultTemplateForTests();
      expect({ read, violations }).toEqual({ read: templateFile, violations: [] });
      template.resourceCountIs('AWS::SQS::Queue', 1);
    } finally {
      if (saved === undefined) delete process.env.TEST_SYNTH_CACHE_DIR;
      else process.env.TEST_SYNTH_CACHE_DIR = saved;
    }
  });
});
