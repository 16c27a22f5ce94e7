import { startIsolatedStack, type IsolatedStack } from '../../local/isolated-stack';

/**
 * The whole local stack for a benchmark run, isolated from any developer's stack (free ports, temporary data).
 * This process's environment then points every AWS client (and handler loaded here) at it.
 */
export async function startBenchStack(log: (line: string) => void = () => undefined): Promise<IsolatedStack> {
  const started = await startIsolatedStack({ name: 'bench', log });
  Object.assign(process.env, started.environment);
  return started;
}
