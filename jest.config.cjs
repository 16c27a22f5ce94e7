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
    // No test leans on jest's default 5 s: on two busy cores a unit test may take many times its quiet time. A test
    // that needs more (a property with many runs) states its own timeout beside its numRuns.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.test.ts'], testTimeout: 30_000 },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.int.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/worker-environment.ts'],
      slowTestThreshold: 30,
      testTimeout: 120_000,
    },
  ],
};
