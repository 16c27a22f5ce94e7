#!/usr/bin/env node
// `npm run test:busy`: the whole `npm test` as CI runs it (a fresh clone of this repository's committed HEAD, no
// node_modules) with CPU-bound processes beside it, as on a busy machine. Prints npm test's summary line and the
// wall time, and exits with npm test's code. The burners are stopped whatever happens (failure, Ctrl-C, SIGTERM).
// BURNERS=n sets how many (default 2); KEEP_CLONE=1 keeps the clone.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const { createWriteStream, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const root = join(__dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'cdc-cart-test-busy-'));
const clone = join(work, 'cdc-cart');
const logFile = join(work, 'npm-test.log');
const burnerCount = Number(process.env.BURNERS ?? 2);

execFileSync('git', ['clone', '--quiet', root, clone], { stdio: 'inherit' });
const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: clone, encoding: 'utf8' }).trim();

// `for(;;){}`, and a look at its parent now and then: were this script killed outright (SIGKILL), they end too.
const BURN = 'const parent = process.ppid; for (;;) { for (let i = 0; i < 1e7; i++); if (process.ppid !== parent) process.exit(); }';
const burners = Array.from({ length: burnerCount }, () => spawn(process.execPath, ['-e', BURN], { stdio: 'ignore' }));
const stopBurners = () => {
  for (const burner of burners) if (burner.exitCode === null && burner.signalCode === null) burner.kill('SIGKILL');
};
process.on('exit', stopBurners);

console.log(`[test:busy] npm test in a fresh clone of ${head} (${clone}) beside ${burnerCount} CPU-bound process(es); log: ${logFile}`);
const started = Date.now();
const log = createWriteStream(logFile);
// A process group of its own, so that an interrupted run stops all of it (jest, its workers, the local stacks).
// The environment of a plain shell: not this npm run's (its PATH leads to this checkout's node_modules/.bin).
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
env.PATH = (process.env.PATH || '').split(':').filter((dir) => !/node_modules[\\/]\.bin$|node-gyp-bin$/.test(dir)).join(':');
const test = spawn('npm', ['test'], { cwd: clone, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
for (const stream of [test.stdout, test.stderr]) {
  stream.on('data', (chunk) => {
    log.write(chunk);
    (stream === test.stdout ? process.stdout : process.stderr).write(chunk);
  });
}
let summary = '';
test.stdout.on('data', (chunk) => {
  const found = /^tests: .*$/m.exec(chunk.toString());
  if (found) summary = found[0];
});

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    interrupted = true;
    stopBurners();
    try {
      process.kill(-test.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  });
}

test.on('close', (code, signal) => {
  stopBurners();
  log.end();
  const minutes = (Date.now() - started) / 60_000;
  console.log(`\n[test:busy] ${summary || 'no summary line (npm test stopped before its end)'}`);
  console.log(`[test:busy] wall time ${Math.floor(minutes)} min ${Math.round((minutes % 1) * 60)} s beside ${burnerCount} CPU-bound process(es); npm test exited ${signal ?? code}${interrupted ? ' (interrupted)' : ''}`);
  if (process.env.KEEP_CLONE === '1') console.log(`[test:busy] kept ${clone}`);
  else rmSync(clone, { recursive: true, force: true });
  process.exit(interrupted ? 130 : (code ?? 1));
});
