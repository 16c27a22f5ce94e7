#!/usr/bin/env node
// Closes `npm test` with where its time went (each jest run's wall time, per project the summed time of its files,
// the slowest files) and, last, the totals of all its jest runs as one plain line: "tests: N passed, N failed, N skipped".
'use strict';
const { readFileSync, rmSync } = require('node:fs');

const file = process.env.TEST_TOTALS_FILE;
const runs = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
rmSync(file, { force: true });
const sum = (key) => runs.reduce((total, run) => total + run[key], 0);

const files = runs.flatMap((run) => run.files || []);
if (files.length > 0) {
  const projects = new Map();
  for (const { project, seconds } of files) projects.set(project, (projects.get(project) || 0) + seconds);
  // Each run named by its files' projects: unit+integration and reliability run side by side (scripts/run-test-suites.cjs).
  const runName = (run) => [...new Set((run.files || []).map((entry) => entry.project))].join('+') || 'no files';
  console.log(`time: jest runs ${runs.map((run) => `${runName(run)} ${run.wallSeconds} s`).join(', ')} (wall); files per project ${[...projects].map(([name, seconds]) => `${name} ${seconds.toFixed(0)} s`).join(', ')}`);
  console.log('slowest files:');
  for (const { file: path, project, seconds } of [...files].sort((a, b) => b.seconds - a.seconds).slice(0, 8)) console.log(`  ${seconds.toFixed(1).padStart(6)} s  ${project.padEnd(12)} ${path}`);
}
console.log(`tests: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`);
process.exit(sum('failed') === 0 && runs.length > 0 ? 0 : 1);
