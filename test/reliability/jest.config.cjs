/** `npm run test:reliability`: scenarios that load, crash and feed garbage to one local stack, one at a time. */
const base = require('../../jest.config.cjs').projects.find((project) => project.displayName === 'integration');

module.exports = {
  ...base,
  rootDir: '../..',
  reporters: ['default', '<rootDir>/test/support/totals-reporter.cjs'],
  displayName: 'reliability',
  testMatch: ['<rootDir>/test/reliability/**/*.rel.test.ts'],
  globalTeardown: '<rootDir>/test/reliability/support/global-teardown.ts',
  testTimeout: 10 * 60 * 1000,
};
