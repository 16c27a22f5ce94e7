#!/usr/bin/env node
// Runs before `npm start`, `npm test` and `npm run bench` on a fresh clone: checks what the project needs and
// installs what it can. Plain Node.js with no dependencies, because it runs before they exist.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, lstatSync, readlinkSync } = require('node:fs');
const { homedir } = require('node:os');
const { delimiter, dirname, join } = require('node:path');

const root = join(__dirname, '..');
const fail = (message) => {
  console.error(`\n[setup] ${message}\n`);
  process.exit(1);
};

// Lambda runs the bundles on Node.js 22 (infra/lambda-bundling.ts), and so does everything here. A machine with an
// older Node.js gets 22 as the npm registry serves it (the node-<platform>-<arch> package holds the official
// binary), kept in a cache folder shared by every clone; this script then runs again on it, and links it as
// node_modules/.bin/node, which npm puts first on the PATH of every npm script: `npm start`, `npm test`,
// `npm run bench` and the processes they start (process.execPath) all run on it.
const NODE_MAJOR = 22;
const NODE_CACHE = process.env.CDC_CART_NODE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'cdc-cart');
const major = Number(process.versions.node.split('.')[0]);
if (major < NODE_MAJOR) {
  const node = providedNode();
  const again = spawnSync(node, [__filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH || ''}` },
  });
  process.exit(again.status === null ? 1 : again.status);
}

/** The cached Node.js 22 binary, fetched from the npm registry first if it is not there yet. */
function providedNode() {
  const pkg = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`;
  const cache = NODE_CACHE;
  const home = join(cache, `${pkg}-${NODE_MAJOR}`);
  const binary = join(home, process.platform === 'win32' ? 'node.exe' : join('bin', 'node'));
  const works = () => {
    const probe = spawnSync(binary, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    return probe.status === 0 && Number(probe.stdout.split('.')[0]) === NODE_MAJOR;
  };
  if (existsSync(binary) && works()) return binary;
  console.log(`[setup] this is Node.js ${process.versions.node}; the project runs on ${NODE_MAJOR}: fetching ${pkg}@${NODE_MAJOR} from the npm registry into ${cache}...`);
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(join(cache, '.fetch-'));
  try {
    const pack = spawnSync('npm', ['pack', `${pkg}@${NODE_MAJOR}`, '--silent', '--pack-destination', work], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const tarball = pack.status === 0 ? pack.stdout.trim().split('\n').pop() : undefined;
    if (!tarball) fail(`fetching ${pkg}@${NODE_MAJOR} failed (see above). Install Node.js ${NODE_MAJOR} yourself (https://nodejs.org) and run again.`);
    const untar = spawnSync('tar', ['-xzf', join(work, tarball), '-C', work], { stdio: 'inherit' });
    if (untar.status !== 0) fail(`unpacking ${tarball} failed (see above). Install Node.js ${NODE_MAJOR} yourself and run again.`);
    // Another run may have finished the same fetch meanwhile: the rename puts a whole folder in place or none.
    rmSync(home, { recursive: true, force: true });
    try {
      renameSync(join(work, 'package'), home);
    } catch (error) {
      if (!existsSync(binary)) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (!works()) fail(`${binary} does not run as Node.js ${NODE_MAJOR}. Install Node.js ${NODE_MAJOR} yourself and run again.`);
  return binary;
}

/** npm scripts find `node` in node_modules/.bin first: point it at the Node.js this script runs on. */
function linkNodeIntoBin() {
  if (!process.execPath.startsWith(NODE_CACHE)) return; // the machine's own Node.js is new enough: nothing to link
  const bin = join(root, 'node_modules', '.bin');
  const link = join(bin, process.platform === 'win32' ? 'node.exe' : 'node');
  try {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === process.execPath) return;
    rmSync(link, { force: true });
  } catch {
    // not there yet
  }
  mkdirSync(bin, { recursive: true });
  symlinkSync(process.execPath, link);
}

const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
const stale = !existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs || !sameDependencies();
if (stale) {
  console.log('[setup] installing dependencies (npm ci)...');
  // npm itself runs on this script's Node.js (first on its PATH), so the engines it checks are 22's.
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH || ''}` },
  });
  if (result.status !== 0) fail('`npm ci` failed: see the output above. Check your network access to the npm registry.');
}
linkNodeIntoBin();

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
