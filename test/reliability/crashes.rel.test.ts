import { auditOutcome, awaitConvergence, expectDownstreamPromises } from './support/pipeline-audit';
import { runCartLoad } from './support/load';
import { pidOf, pipelineComponents, waitUntilRunning } from './support/processes';
import { reliabilityProfile } from './support/profile';
import { recordOutcome } from './support/summary';

const CARTS = reliabilityProfile().crashCarts;
const KILLS = 5;

describe('crashes', () => {
  it(`kill -9 pipeline processes ${KILLS} times during a load of ${CARTS} carts: everything converges`, async () => {
    const victims = pipelineComponents();
    expect(victims.length).toBeGreaterThan(0);
    const killed: string[] = [];
    // Seeded so a failure can be replayed with the same victims and moments.
    let seed = Number(process.env.RELIABILITY_SEED ?? 20261127);
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const firstVictim = Math.floor(random() * victims.length);
    const killMoments = Array.from({ length: KILLS }, (_, i) => Math.floor(((i + random()) / KILLS) * CARTS * 0.9));

    let nextKill = 0;
    let killing = Promise.resolve();
    const load = await runCartLoad({
      carts: CARTS,
      concurrency: 8,
      tag: 'CRASH',
      onProgress: (done) => {
        while (nextKill < KILLS && done >= killMoments[nextKill]!) {
          nextKill++;
          // Round robin from a random start: every pipeline process is killed at least once.
          const victim = victims[(firstVictim + nextKill - 1) % victims.length]!;
          // One kill at a time: each waits for the previous victim to be back, as a real crash loop would.
          killing = killing.then(async () => {
            const pid = pidOf(victim);
            process.kill(pid, 'SIGKILL');
            killed.push(victim);
            await waitUntilRunning(victim, pid);
          });
        }
      },
    });
    await killing;
    const audit = await awaitConvergence(load.cartIds, 180_000);

    recordOutcome({
      scenario: 'crashes (kill -9)',
      operations: load.commands,
      faultsInjected: killed.length,
      ...auditOutcome(audit),
      note: `killed ${killed.join(', ')}`,
    });
    expect(load.failures).toEqual([]);
    expect(killed).toHaveLength(KILLS);
    expectDownstreamPromises(audit);
  });
});
