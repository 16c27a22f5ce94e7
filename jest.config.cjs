/** Unit tests sit beside the code (*.unit.test.ts); integration tests in test/ run against a local stack. */
const transform = {
  '^.+\\.[tj]s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
const common = {
  transform,
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/cdk.out/', '/.local/'],
  modulePathIgnorePatterns: ['/cdk.out/', '/.local/'],
};

module.exports = {
  reporters: ['default', '<rootDir>/test/support/totals-reporter.cjs'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/worker-environment.ts'],
      slowTestThreshold: 30,
    },
  ],
};
