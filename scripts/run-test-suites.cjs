#!/usr/bin/env node
// `npm test`'s runs, once the set-up, the type check and the boundaries passed: jest's unit and integration projects
// and, beside them, the reliability scenarios (short profile). These start a stack of their own (free ports, a
// temporary data folder: test/support/global-setup.ts), so they share nothing with jest's stacks, and most of their
// time is spent waiting for the pipeline to converge, as the integration files' is; one after the other, the two
// runs took 18 min beside two CPU-bound processes. Their output is kept in a file and shown once jest's ends, so the
// two never interleave. Then the IAM evidence over the calls both recorded, then the totals.
'use strict';
const { spawn } = require('node:child_process');
const { createWriteStream, mkdtempSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');

const root = join(__dirname, '..');

/** Runs a command of node_modules/.bin (npm puts it on PATH) and resolves with its exit code. */
function run(command, args, { env = process.env, output } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env, stdio: output ? ['ignore', 'pipe', 'pipe'] : 'inherit' });
    if (output) {
      child.stdout.pipe(output, { end: false });
      child.stderr.pipe(output, { end: false });
    }
    child.on('error', (error) => {
      console.error(`[npm test] ${command} did not start: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main() {
  const logFile = join(mkdtempSync(join(tmpdir(), 'cdc-cart-reliability-')), 'reliability.log');
  const log = createWriteStream(logFile);
  console.log(`[npm test] the reliability scenarios (short profile) run beside jest on a stack of their own; their output follows jest's (${logFile})`);
  const reliability = run('jest', ['--config', 'test/reliability/jest.config.cjs', '--runInBand'], {
    env: { ...process.env, RELIABILITY_PROFILE: 'short' },
    output: log,
  });
  const jestCode = await run('jest', []);
  if (jestCode === 0) console.log('\n[npm test] jest passed; waiting for the reliability scenarios');
  const reliabilityCode = await reliability;
  await new Promise((resolve) => log.end(resolve));
  console.log(`\n[npm test] reliability scenarios (short profile), exit code ${reliabilityCode}:\n`);
  process.stdout.write(readFileSync(logFile, 'utf8'));

  // The IAM evidence reads what the handlers of both runs called; after a failed run that record may be partial.
  let iamCode = 0;
  if (jestCode === 0 && reliabilityCode === 0) iamCode = await run('jest', ['--config', 'test/iam/jest.config.cjs']);
  else console.log('\n[npm test] the IAM evidence is not checked: a run before it failed');
  const totalsCode = await run('node', [join(__dirname, 'print-test-totals.cjs')]);
  return [jestCode, reliabilityCode, iamCode, totalsCode].find((code) => code !== 0) ?? 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
