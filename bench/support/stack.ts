import { startIsolatedStack, type IsolatedStack } from '../../local/isolated-stack';

/**
 * The whole local stack for a benchmark run, isolated from any developer's stack (free ports, temporary data).
 * This process's environment then points every AWS client (and handler loaded here) at it. DynamoDB Local keeps
 * its tables in memory here (-inMemory: about twice the write throughput of its on-disk store on 2 cores); every
 * entry measures our code against its floor on that same emulator, so the ratios stay comparable.
 */
export async function startBenchStack(log: (line: string) => void = () => undefined): Promise<IsolatedStack> {
  const started = await startIsolatedStack({ name: 'bench', log, inMemoryDynamoDb: true });
  Object.assign(process.env, started.environment);
  return started;
}
