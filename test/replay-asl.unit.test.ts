import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadLocalConfig } from '../local/config';
import { compileStateMachine } from '../local/stepfunctions/compile';
import { PARTITION_PLACEHOLDER, STATE_MACHINES, substitute, type StateMachineName } from '../statemachines/state-machines';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const validate = require('asl-validator') as (
  definition: unknown,
  options?: { checkArn?: boolean; checkPaths?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

const ROOT = join(__dirname, '..');
const NAMES = Object.keys(STATE_MACHINES) as StateMachineName[];

/** What CDK substitutes on AWS: the partition, real-looking function ARNs (with a stage prefix) and a bucket name. */
function asDeployed(name: StateMachineName): any {
  const spec = STATE_MACHINES[name];
  const values: Record<string, string> = { [PARTITION_PLACEHOLDER]: 'aws', ArchiveBucket: 'prod-cart-events-archive' };
  for (const [placeholder, lambda] of Object.entries(spec.functions)) values[placeholder] = `arn:aws:lambda:eu-west-1:123456789012:function:prod-${lambda}`;
  return JSON.parse(substitute(readFileSync(join(ROOT, spec.definitionFile), 'utf8'), values));
}

function statesOf(definition: any): [string, any][] {
  return Object.entries<any>(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, any],
    ...(state.ItemProcessor ? statesOf(state.ItemProcessor) : []),
    ...(state.Iterator ? statesOf(state.Iterator) : []),
    ...(state.Branches ?? []).flatMap(statesOf),
  ]);
}

describe.each(NAMES)('state machine %s', (name) => {
  it('is valid ASL (asl-validator, ARNs and paths checked) once its placeholders are filled', () => {
    const result = validate(asDeployed(name), { checkArn: true, checkPaths: true });
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('is JSONPath only (the local runner silently ignores JSONata) and calls Lambdas by function ARN', () => {
    const definition = asDeployed(name);
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    for (const [stateName, state] of statesOf(definition)) {
      expect([stateName, state.QueryLanguage ?? 'JSONPath']).toEqual([stateName, 'JSONPath']);
      // A function ARN as Resource returns the function's result itself on AWS, as the local runner does;
      // lambda:invoke would wrap it in {Payload} on AWS only.
      if (state.Type === 'Task') expect([stateName, state.Resource]).toEqual([stateName, expect.stringMatching(/^arn:aws:lambda:eu-west-1:123456789012:function:prod-/)]);
    }
  });

  // Throttled and the other errors a step throws are checked against the code in statemachines/task-errors.unit.test.ts.
  it("retries the Lambda service's errors with backoff in every Lambda step, and states its tolerated failures in every Distributed Map", () => {
    for (const [stateName, state] of statesOf(asDeployed(name))) {
      if (state.Type === 'Task') {
        const retrier = (state.Retry ?? []).find((r: any) => r.ErrorEquals.includes('Lambda.ServiceException') && r.ErrorEquals.includes('Lambda.TooManyRequestsException'));
        expect([stateName, retrier && retrier.BackoffRate > 1 && retrier.MaxAttempts > 1]).toEqual([stateName, true]);
      }
      if (state.Type === 'Map' && state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
        expect(state.ToleratedFailurePercentage).toBe(0);
        expect(state.Catch?.[0]?.ErrorEquals).toEqual(['States.ALL']);
      }
    }
  });

  it('fills every placeholder from the substitution table, and the local endpoint builds it', () => {
    const text = readFileSync(join(ROOT, STATE_MACHINES[name].definitionFile), 'utf8');
    const placeholders = [...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1]).filter((p) => p !== PARTITION_PLACEHOLDER).sort();
    const known = [...Object.keys(STATE_MACHINES[name].functions), ...Object.keys(STATE_MACHINES[name].buckets)];
    expect([...new Set(placeholders)]).toEqual(known.sort());
    const compiled = compileStateMachine(name, loadLocalConfig({}));
    expect(compiled.definition).not.toMatch(/\$\{/);
    expect([...new Set([...compiled.bindings.values()].filter((b) => b.kind === 'task').map((b) => b.lambda))].sort()).toEqual(Object.values(STATE_MACHINES[name].functions).sort());
  });
});
