#!/usr/bin/env node
// Closes `npm test` with the totals of all its jest runs, as one plain line: "tests: N passed, N failed, N skipped".
'use strict';
const { readFileSync, rmSync } = require('node:fs');

const file = process.env.TEST_TOTALS_FILE;
const runs = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
rmSync(file, { force: true });
const sum = (key) => runs.reduce((total, run) => total + run[key], 0);
console.log(`tests: ${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`);
process.exit(sum('failed') === 0 && runs.length > 0 ? 0 : 1);
