// Adds each jest run's totals to one file, so that `npm test` can close with a single plain
// "tests: N passed, N failed" line over all its runs (scripts/print-test-totals.cjs).
'use strict';
const { appendFileSync } = require('node:fs');

class TotalsReporter {
  onRunComplete(_contexts, results) {
    const file = process.env.TEST_TOTALS_FILE;
    if (!file) return;
    appendFileSync(file, `${JSON.stringify({ passed: results.numPassedTests, failed: results.numFailedTests, skipped: results.numPendingTests })}\n`);
  }
}

module.exports = TotalsReporter;
