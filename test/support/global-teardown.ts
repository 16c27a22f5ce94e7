import type { IsolatedStack } from '../../local/isolated-stack';

export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __localStack?: IsolatedStack }).__localStack?.stop();
}
