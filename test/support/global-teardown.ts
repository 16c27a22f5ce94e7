import { rmSync } from 'node:fs';
import type { LocalStack } from '../../local/stack';

export default async function globalTeardown(): Promise<void> {
  const stack = (globalThis as { __localStack?: LocalStack }).__localStack;
  if (!stack) return;
  await stack.stop();
  if (process.env.KEEP_TEST_DATA !== 'true') rmSync(stack.config.dataDir, { recursive: true, force: true });
}
