/**
 * IAM from evidence (test/iam/iam-evidence.test.ts): runs after the integration and reliability runs have recorded
 * the handlers' AWS calls into AWS_CALL_RECORDING_DIR (see package.json "test").
 */
const base = require('../../jest.config.cjs').projects.find((project) => project.displayName === 'unit');

module.exports = {
  ...base,
  rootDir: '../..',
  reporters: ['default', '<rootDir>/test/support/totals-reporter.cjs'],
  displayName: 'iam-evidence',
  testMatch: ['<rootDir>/test/iam/**/*.test.ts'],
  testTimeout: 120_000,
};
