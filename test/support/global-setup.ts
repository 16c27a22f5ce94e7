import { startIsolatedStack, type IsolatedStack } from '../../local/isolated-stack';

/**
 * Starts one whole local stack for the integration run, exactly as `npm start` does, but on free ports and a
 * fresh temporary data folder, so that several runs on one machine never collide. Workers inherit the
 * environment set here and reach the stack through it.
 */
export default async function globalSetup(): Promise<void> {
  const lines: string[] = [];
  let started: IsolatedStack;
  try {
    started = await startIsolatedStack({ name: 'test', log: (line) => lines.push(line) });
  } catch (error) {
    console.error(lines.slice(-50).join('\n'));
    throw error;
  }
  (globalThis as { __localStack?: IsolatedStack }).__localStack = started;
  Object.assign(process.env, started.environment);
}
