import type { IsolatedStack } from '../../../local/isolated-stack';
import globalTeardown from '../../support/global-teardown';
import { reliabilityProfile } from './profile';
import { formatOutcomes, readOutcomes } from './summary';

/** Prints the suite's summary table, then stops the stack. */
export default async function reliabilityTeardown(): Promise<void> {
  const stack = (globalThis as { __localStack?: IsolatedStack }).__localStack;
  if (stack) {
    const outcomes = readOutcomes(stack.config.dataDir);
    process.stdout.write(`\nReliability summary (profile ${reliabilityProfile().name})\n${formatOutcomes(outcomes)}\n\n`);
  }
  await globalTeardown();
}
