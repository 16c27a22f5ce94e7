// Adds each jest run's totals to one file, so that `npm test` can close with a single plain
// "tests: N passed, N failed" line over all its runs (scripts/print-test-totals.cjs), and where the time went:
// the run's wall time, each project's summed file time, and every file's time.
'use strict';
const { appendFileSync } = require('node:fs');
const { relative } = require('node:path');

class TotalsReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    const file = process.env.TEST_TOTALS_FILE;
    if (!file) return;
    const files = results.testResults.map((result) => ({
      file: relative(this.rootDir, result.testFilePath),
      project: result.displayName ? result.displayName.name : 'default',
      seconds: Math.round((result.perfStats.end - result.perfStats.start) / 100) / 10,
    }));
    const wallSeconds = Math.round((Date.now() - results.startTime) / 100) / 10;
    appendFileSync(file, `${JSON.stringify({ passed: results.numPassedTests, failed: results.numFailedTests, skipped: results.numPendingTests, wallSeconds, files })}\n`);
  }
}

module.exports = TotalsReporter;
