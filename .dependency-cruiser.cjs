/**
 * The boundaries of the code, checked on every `npm test`:
 *   domain       pure: no AWS, no I/O, nothing from the other layers
 *   application  use cases over ports: may use domain only
 *   adapters     AWS SDK implementations of the ports: may use domain and application
 *   lambdas      thin handlers wiring use cases to event shapes
 *   simulation   the deterministic simulation: domain, application and examples over in-memory ports
 *   local, infra the two runtimes (emulators, CDK): nothing deployed may depend on them
 */
const layer = (name) => `^${name}/`;
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      severity: 'error',
      from: { path: layer('domain') },
      to: { pathNot: [layer('domain'), '^node_modules/zod/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'domain-no-node-io',
      severity: 'error',
      from: { path: layer('domain'), pathNot: '\\.unit\\.test\\.ts$' },
      to: { dependencyTypes: ['core'], path: '^(fs|net|http|https|child_process|node:fs|node:net|node:http|node:https|node:child_process)$' },
    },
    {
      name: 'application-uses-ports-not-aws',
      severity: 'error',
      from: { path: layer('application') },
      to: { path: ['^node_modules/@aws-sdk/', layer('adapters'), layer('lambdas'), layer('local'), layer('infra')] },
    },
    {
      name: 'adapters-stay-below-handlers',
      severity: 'error',
      from: { path: layer('adapters') },
      to: { path: [layer('lambdas'), layer('local'), layer('infra'), layer('cli')] },
    },
    {
      name: 'deployed-code-never-uses-runtimes',
      severity: 'error',
      from: { path: [layer('domain'), layer('application'), layer('adapters'), layer('lambdas')] },
      to: { path: [layer('local'), layer('infra'), layer('bench'), layer('test'), layer('simulation')] },
    },
    {
      name: 'simulation-runs-the-application-not-aws',
      severity: 'error',
      from: { path: layer('simulation') },
      to: { path: ['^node_modules/@aws-sdk/', layer('adapters'), layer('lambdas'), layer('local'), layer('infra')] },
    },
    {
      name: 'infra-does-not-run-local',
      severity: 'error',
      from: { path: layer('infra') },
      to: { path: layer('local') },
    },
    {
      name: 'arbitraries-are-for-tests',
      severity: 'error',
      from: { pathNot: ['\\.(unit|int|rel)\\.test\\.ts$', '^test/', '^bench/'] },
      to: { path: '^domain/cart/arbitraries\\.ts$' },
    },
    { name: 'no-cycles', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^cdk\\.out', '^\\.local'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
