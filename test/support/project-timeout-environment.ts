import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';
import { TestEnvironment } from 'jest-environment-node';

/** Where jest-circus looks for `jest.setTimeout`'s value when a file starts (read at its run_start). */
const TEST_TIMEOUT = Symbol.for('TEST_TIMEOUT_SYMBOL');

/**
 * The node environment, with the project's own `testTimeout` in force. jest-circus takes the time-out from the global
 * configuration only: in a multi-project config a project's `testTimeout` is ignored and every test without its
 * own falls back to jest's 5 s (a busy fresh-clone run failed on that). So the environment hands the project's value
 * to circus the way `jest.setTimeout` does; a file's own `jest.setTimeout` or a test's own time-out still wins.
 */
export class ProjectTimeoutEnvironment extends TestEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    const timeout = config.projectConfig.testTimeout ?? config.globalConfig.testTimeout;
    if (timeout) (this.global as unknown as Record<symbol, number>)[TEST_TIMEOUT] = timeout;
  }
}

export default ProjectTimeoutEnvironment;
