/** Unit tests sit beside the code (*.unit.test.ts); integration tests in test/ run against a local stack. */
const transform = {
  '^.+\\.[tj]s$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};
const common = {
  transform,
  // The node environment, with each project's testTimeout really in force (jest-circus reads only the global one).
  testEnvironment: '<rootDir>/test/support/project-timeout-environment.ts',
  // Jest 30 deletes what a test file left on the global scope once the file is done; "soft" (the default) only
  // warns (JEST-01) when something touches it afterwards, and a later Jest switches to "on". "on" now: a test that
  // leaves a timer or a socket callback reaching for globals after its file ended fails here, where it can be fixed.
  testEnvironmentOptions: { globalsCleanup: 'on' },
  testPathIgnorePatterns: ['/node_modules/', '/cdk.out/', '/.local/'],
  modulePathIgnorePatterns: ['/cdk.out/', '/.local/'],
};

module.exports = {
  // Three files at a time, also on two cores: the integration files mostly wait on their stacks (settles, replays,
  // Firehose's buffer), and with two the cores still sat idle about a third of the run. Files on the shared stack
  // still take turns (test/support/shared-stack-environment.ts). Measured in docs/reliability.md.
  maxWorkers: 3,
  reporters: ['default', '<rootDir>/test/support/totals-reporter.cjs'],
  projects: [
    // No test leans on jest's default 5 s: on two busy cores a unit test may take many times its quiet time. A test
    // that needs more (a property with many runs) states its own timeout beside its numRuns.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/**/*.unit.test.ts'], testTimeout: 30_000 },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.int.test.ts'],
      testEnvironment: '<rootDir>/test/support/shared-stack-environment.ts',
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      setupFiles: ['<rootDir>/test/support/worker-environment.ts'],
      slowTestThreshold: 30,
      testTimeout: 120_000,
    },
  ],
};
