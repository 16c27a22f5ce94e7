#!/usr/bin/env node
// Runs before `npm start`, `npm test` and `npm run bench` on a fresh clone: checks what the project needs and
// installs what it can. Plain Node.js with no dependencies, because it runs before they exist.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const fail = (message) => {
  console.error(`\n[setup] ${message}\n`);
  process.exit(1);
};

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 19)) {
  fail(`Node.js 20.19 or newer is needed (this is ${process.versions.node}). Install Node.js 20 or 22 LTS and run again.`);
}

const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
const stale = !existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs || !sameDependencies();
if (stale) {
  console.log('[setup] installing dependencies (npm ci)...');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) fail('`npm ci` failed: see the output above. Check your network access to the npm registry.');
}

const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
const version = /version "(\d+)(?:\.(\d+))?/.exec(java.stderr || '');
const javaMajor = version ? (Number(version[1]) === 1 ? Number(version[2]) : Number(version[1])) : undefined;
if (javaMajor === undefined || javaMajor < 17) {
  const found = javaMajor === undefined ? 'no `java` on the PATH' : `Java ${javaMajor}`;
  const canApt = process.getuid && process.getuid() === 0 && spawnSync('apt-get', ['--version']).status === 0;
  if (!canApt) {
    fail(`DynamoDB Local needs Java 17 or newer, and found ${found}.\n` +
      '  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless\n' +
      '  macOS:         brew install openjdk@17\n' +
      'then run the command again.');
  }
  console.log(`[setup] DynamoDB Local needs Java 17+ (${found}); installing openjdk-17-jre-headless with apt-get...`);
  const update = spawnSync('apt-get', ['update'], { stdio: 'inherit' });
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'openjdk-17-jre-headless'], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (update.status !== 0 || install.status !== 0) {
    fail('installing Java failed: install a Java 17+ runtime yourself (openjdk-17-jre-headless) and run again.');
  }
}

// The console's browser tests (npm test only: `--browser`) drive Debian's headless Chromium with playwright-core,
// which cannot download a browser of its own here.
if (process.argv.includes('--browser')) {
  const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  const works = () => spawnSync(chromium, ['--version'], { encoding: 'utf8' }).status === 0;
  if (!works()) {
    const canApt = process.getuid && process.getuid() === 0 && spawnSync('apt-get', ['--version']).status === 0;
    if (!canApt || process.env.CHROMIUM_PATH) {
      fail(`the browser tests need Chromium at ${chromium}, and it is not there.\n` +
        '  Debian/Ubuntu: sudo apt-get install -y chromium\n' +
        '  elsewhere:     install Chromium or Chrome and set CHROMIUM_PATH to its executable\n' +
        'then run the command again.');
    }
    console.log('[setup] the browser tests need Chromium; installing Debian\'s chromium with apt-get...');
    const update = spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (update.status !== 0 || install.status !== 0 || !works()) {
      fail('installing Chromium failed: install it yourself (apt-get install chromium) or set CHROMIUM_PATH, and run again.');
    }
  }
}

/** node_modules may be newer than the lock yet from another branch: compare the recorded versions too. */
function sameDependencies() {
  try {
    const wanted = JSON.parse(readFileSync(lock, 'utf8')).packages || {};
    const have = JSON.parse(readFileSync(installed, 'utf8')).packages || {};
    return Object.entries(wanted).every(([path, meta]) => path === '' || meta.optional || meta.peer || (have[path] && have[path].version === meta.version));
  } catch {
    return false;
  }
}
