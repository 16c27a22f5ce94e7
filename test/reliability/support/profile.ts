/**
 * How hard the suite pushes. `full` is `npm run test:reliability`; `short` is the part of `npm test` that keeps CI
 * within its budget: the same scenarios and checks with fewer operations (hostile input keeps its 1,000+).
 * Each number can still be set on its own through its variable.
 */
const PROFILES = {
  full: { clients: 50, addsPerClient: 20, parallelCarts: 200, crashCarts: 150, outageCarts: 40, hostileRequests: 1_200 },
  short: { clients: 20, addsPerClient: 10, parallelCarts: 80, crashCarts: 60, outageCarts: 20, hostileRequests: 1_000 },
} as const;

type Profile = { -readonly [K in keyof (typeof PROFILES)['full']]: number };

const VARIABLES: Record<keyof Profile, string> = {
  clients: 'RELIABILITY_CLIENTS',
  addsPerClient: 'RELIABILITY_ADDS_PER_CLIENT',
  parallelCarts: 'RELIABILITY_CARTS',
  crashCarts: 'RELIABILITY_CRASH_CARTS',
  outageCarts: 'RELIABILITY_OUTAGE_CARTS',
  hostileRequests: 'RELIABILITY_HOSTILE_REQUESTS',
};

export function reliabilityProfile(env: NodeJS.ProcessEnv = process.env): Profile & { name: string } {
  const name = env.RELIABILITY_PROFILE ?? 'full';
  if (name !== 'full' && name !== 'short') throw new Error(`RELIABILITY_PROFILE must be "full" or "short", got "${name}"`);
  const profile: Profile = { ...PROFILES[name] };
  for (const key of Object.keys(VARIABLES) as (keyof Profile)[]) {
    const raw = env[VARIABLES[key]];
    if (raw !== undefined) {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 1) throw new Error(`${VARIABLES[key]} must be a positive integer, got "${raw}"`);
      profile[key] = value;
    }
  }
  return { ...profile, name };
}
