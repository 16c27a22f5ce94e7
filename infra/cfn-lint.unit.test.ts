import { spawnSync } from 'node:child_process';
import { defaultTemplateForTests } from './testing';

/**
 * AWS's own CloudFormation linter (the Python `cfn-lint`, not the unrelated npm package) on the synthesized
 * template. W3005 (redundant DependsOn: the Pipe and Firehose need theirs) and W7001 (the Firehose L2's unused
 * mapping) are ignored. The test is skipped, visibly, only where cfn-lint is not installed.
 */
const cfnLint = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
const available = cfnLint.status === 0;
if (!available) {
  // eslint-disable-next-line no-console
  console.warn('SKIPPED: cfn-lint is not on the PATH (pip install cfn-lint); the template was not linted.');
}

(available ? test : test.skip)(
  `cfn-lint ${available ? cfnLint.stdout.trim() : '(not installed)'} finds no error or warning in the template`,
  () => {
    const { templateFile } = defaultTemplateForTests();
    const result = spawnSync('cfn-lint', ['--format', 'parseable', '--ignore-checks', 'W3005', 'W7001', '--', templateFile], { encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  },
  180_000,
);
