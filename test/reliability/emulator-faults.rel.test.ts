import { api } from '../support/local-stack';
import { auditOutcome, awaitConvergence, expectExactlyOnceDownstream } from './support/pipeline-audit';
import { runCartLoad } from './support/load';
import { freeze } from './support/processes';
import { reliabilityProfile } from './support/profile';
import { recordOutcome } from './support/summary';

const OUTAGE_MS = 10_000;

describe('emulator faults', () => {
  it.each([
    ['kinesis', 'Kinesis unavailable'],
    ['s3', 'S3 unavailable'],
  ] as const)('%s frozen for 10 s under load: the API keeps accepting commands and all converges', async (emulator, scenario) => {
    const outage = freeze(emulator, OUTAGE_MS);
    const load = await runCartLoad({ carts: reliabilityProfile().outageCarts, concurrency: 4, tag: emulator.toUpperCase() });
    await outage;
    const health = await api('GET', '/health');
    const audit = await awaitConvergence(load.cartIds, 180_000);

    recordOutcome({
      scenario,
      operations: load.commands,
      faultsInjected: 1,
      ...auditOutcome(audit),
      note: `outage ${OUTAGE_MS / 1000} s; health after: ${health.status}`,
    });
    expect(load.failures).toEqual([]);
    expectExactlyOnceDownstream(audit);
  });
});
