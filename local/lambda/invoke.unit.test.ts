import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LAMBDAS } from '../../lambdas/registry';
import { bundledFileOf, loadHandler } from './invoke';

describe('loadHandler', () => {
  it('with a bundles folder (npm start -- --bundled), loads the bundle of the entry, not its TypeScript source', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cdc-cart-bundles-'));
    try {
      const file = bundledFileOf(dir, LAMBDAS.eventLog.entry);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `exports.${LAMBDAS.eventLog.handler} = async () => 'from the bundle';`);
      const handler = loadHandler('eventLog', dir);
      await expect(handler({}, {} as never)).resolves.toBe('from the bundle');
      expect(file).toBe(join(dir, 'lambdas/event-log/handler.js'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
