import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LAMBDAS, type LambdaName } from '../lambdas/registry';
import { STATE_MACHINES, type StateMachineName } from './state-machines';

/**
 * The retriers and catchers of statemachines/*.asl.json name errors that are thrown, and every error a step
 * throws on purpose is retried or caught by name. What a step throws is read from the code: each step's
 * `errors.ts` lists the error classes per handler, and this test walks the imports of the handler's module to
 * find every error class its code can reach, so a new error class cannot appear unlisted.
 */

type ErrorClass = abstract new (...args: never[]) => Error;
interface ErrorsModule {
  ERRORS_THROWN: Record<string, readonly ErrorClass[]>;
  ERRORS_NOT_THROWN: Map<ErrorClass, string>;
}

const ROOT = resolve(__dirname, '..');
const NAMES = Object.keys(STATE_MACHINES) as StateMachineName[];

/** Error names the Step Functions and Lambda services raise themselves. */
const isServiceError = (name: string) => name.startsWith('States.') || name.startsWith('Lambda.');

function nameOf(errorClass: ErrorClass): string {
  return Reflect.construct(errorClass, ['', '', 0, 0]).name;
}

function errorsOf(lambda: LambdaName): { handler: string; module: ErrorsModule; entry: string } {
  const { entry, handler } = LAMBDAS[lambda];
  const file = join(ROOT, dirname(entry), 'errors.ts');
  if (!existsSync(file)) throw new Error(`${lambda}: ${dirname(entry)}/errors.ts (ERRORS_THROWN, ERRORS_NOT_THROWN) is missing`);
  return { handler, module: require(file) as ErrorsModule, entry };
}

function tasksOf(definition: any): { stateName: string; state: any }[] {
  return Object.entries<any>(definition.States).flatMap(([stateName, state]) => [
    ...(state.Type === 'Task' ? [{ stateName, state }] : []),
    ...(state.ItemProcessor ? tasksOf(state.ItemProcessor) : []),
    ...(state.Iterator ? tasksOf(state.Iterator) : []),
    ...(state.Branches ?? []).flatMap(tasksOf),
  ]);
}

function tasksWithLambdas(name: StateMachineName) {
  const spec = STATE_MACHINES[name];
  const definition = JSON.parse(readFileSync(join(ROOT, spec.definitionFile), 'utf8'));
  return tasksOf(definition).map(({ stateName, state }) => {
    const placeholder = /^\$\{(\w+)\}$/.exec(String(state.Resource))?.[1] as keyof typeof spec.functions | undefined;
    const lambda = placeholder ? (spec.functions[placeholder] as LambdaName) : undefined;
    if (!lambda) throw new Error(`${name}.${stateName}: Resource ${state.Resource} is not a function placeholder`);
    const named = (list: any[] | undefined) => new Set<string>((list ?? []).flatMap((entry) => entry.ErrorEquals as string[]));
    return { stateName, lambda, retried: named(state.Retry), caught: named(state.Catch) };
  });
}

/** Every project file the module imports at run time, transitively (type-only imports bring no code). */
function reachableFiles(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.{1,2}\/[^']+)'/gms)) {
      const target = resolve(dirname(file), match[1]!);
      const candidates = [`${target}.ts`, join(target, 'index.ts')];
      const found = candidates.find((candidate) => existsSync(candidate));
      if (found) visit(found);
    }
  };
  visit(join(ROOT, entry));
  return [...seen];
}

/** Names of the error classes declared in those files (`class X extends Error`, named by their `name` field or class). */
function reachableErrorNames(entry: string): Set<string> {
  const names = new Set<string>();
  for (const file of reachableFiles(entry)) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/class (\w+) extends Error \{([\s\S]*?)\n\}/g)) {
      names.add(/readonly name = '([^']+)'/.exec(match[2]!)?.[1] ?? match[1]!);
    }
  }
  return names;
}

describe.each(NAMES)('state machine %s', (name) => {
  const tasks = tasksWithLambdas(name);

  it.each(tasks.map((task) => [task.stateName, task] as const))('%s names in Retry and Catch only errors its handler throws', (_, task) => {
    const { handler, module } = errorsOf(task.lambda);
    const thrown = new Set((module.ERRORS_THROWN[handler] ?? []).map(nameOf));
    const namedButNeverThrown = [...task.retried, ...task.caught].filter((error) => !isServiceError(error) && !thrown.has(error));
    expect(namedButNeverThrown).toEqual([]);
  });

  it.each(tasks.map((task) => [task.stateName, task] as const))('%s retries or catches by name every error its handler throws on purpose', (_, task) => {
    const { handler, module } = errorsOf(task.lambda);
    expect(Object.keys(module.ERRORS_THROWN)).toContain(handler);
    const unhandled = (module.ERRORS_THROWN[handler] ?? []).map(nameOf).filter((error) => !task.retried.has(error) && !task.caught.has(error));
    expect(unhandled).toEqual([]);
  });

  it("lists every error class its handlers' code can reach, as thrown by a step or as never thrown with a reason", () => {
    for (const lambda of new Set(tasks.map((task) => task.lambda))) {
      const { module, entry } = errorsOf(lambda);
      const listed = new Set([...Object.values(module.ERRORS_THROWN).flat(), ...module.ERRORS_NOT_THROWN.keys()].map(nameOf));
      const reachable = reachableErrorNames(entry);
      expect({ lambda, unlisted: [...reachable].filter((error) => !listed.has(error)).sort() }).toEqual({ lambda, unlisted: [] });
      expect({ lambda, listedButUnreachable: [...listed].filter((error) => !reachable.has(error)).sort() }).toEqual({ lambda, listedButUnreachable: [] });
      for (const reason of module.ERRORS_NOT_THROWN.values()) expect(reason.length).toBeGreaterThan(10);
    }
  });
});

describe('the check itself', () => {
  it('finds error classes the replay code reaches, and names a retrier of an error nobody throws', () => {
    expect([...reachableErrorNames(LAMBDAS.replayObject.entry)]).toEqual(expect.arrayContaining(['ProjectionContentionError', 'MissingHistoryError', 'Throttled']));
    const object = tasksWithLambdas('replay').find((task) => task.stateName === 'ReplayObject')!;
    expect(object.retried.has('ProjectionContentionError')).toBe(true);
    expect(object.retried.has('ProjectionGap')).toBe(false);
  });
});
