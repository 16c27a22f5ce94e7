import './polyfill';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StateMachine as StateMachineType, StateMachineDefinition } from 'aws-local-stepfunctions';
import { LAMBDAS, type LambdaName } from '../../lambdas/registry';
import { PARTITION_PLACEHOLDER, STATE_MACHINES, substitute, type StateMachineName } from '../../statemachines/state-machines';
import type { LocalConfig } from '../config';
import { functionNameOf, localFunctionArn, stateMachineArn } from './arns';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { StateMachine } = require('aws-local-stepfunctions') as { StateMachine: typeof StateMachineType };

const PROJECT_ROOT = resolve(__dirname, '..', '..');
/**
 * The library's Task default is 60 s; AWS has none. A stand-in Map state runs as long as its children: 20 days,
 * just under what a Node.js timer can hold (2^31 - 1 ms; a longer one fires at once).
 */
const DISTRIBUTED_MAP_TIMEOUT_SECONDS = 20 * 24 * 3600;
const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:us-east-1:000000000000:activity:local-distributed-map';
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A Task state bound to a registered Lambda handler. */
export interface TaskBinding {
  readonly kind: 'task';
  readonly stateName: string;
  readonly lambda: LambdaName;
  /** `arn`: Resource is the function ARN, the result is the handler's. `invoke`: lambda:invoke, wrapped in {Payload}. */
  readonly style: 'arn' | 'invoke';
  readonly timeoutMs: number;
}

/** A Distributed Map state, which the library cannot run: the endpoint runs it (see distributed-map.ts). */
export interface DistributedMapSpec {
  readonly kind: 'distributedMap';
  readonly stateName: string;
  /** Evaluates ItemReader.Parameters against the Map's input (undefined: items come from ItemsPath). */
  readonly readerParameters?: StateMachineType;
  readonly readerResource?: string;
  readonly maxItems?: number;
  /** Evaluates ItemsPath (as {"items.$": ItemsPath}). */
  readonly itemsPath: StateMachineType;
  /** Evaluates ItemSelector with $$.Map.Item in the context (undefined: the item itself). */
  readonly itemSelector?: StateMachineType;
  readonly child: StateMachineType;
  readonly maxConcurrency: number;
  readonly toleratedFailurePercentage: number;
  readonly toleratedFailureCount: number;
  /** Evaluates ResultWriter.Parameters (undefined: results are the Map's output, as without a ResultWriter). */
  readonly resultWriter?: StateMachineType;
}

export type LocalBinding = TaskBinding | DistributedMapSpec;

export interface CompiledStateMachine {
  readonly name: string;
  readonly arn: string;
  readonly description: string;
  /** The definition as deployed (placeholders filled with local values), for DescribeStateMachine. */
  readonly definition: string;
  readonly machine: StateMachineType;
  /** By state name (the library binds local handlers by state name, so names are unique per machine). */
  readonly bindings: ReadonlyMap<string, LocalBinding>;
  readonly createdAt: Date;
}

/** The values the placeholders take locally: local Lambda ARNs and local resource names. */
export function localSubstitutions(name: StateMachineName, config: LocalConfig): Record<string, string> {
  const spec = STATE_MACHINES[name];
  return {
    [PARTITION_PLACEHOLDER]: 'aws',
    ...Object.fromEntries(Object.entries(spec.functions).map(([placeholder, lambda]) => [placeholder, localFunctionArn(lambda)])),
    ...Object.fromEntries(Object.entries(spec.buckets).map(([placeholder, resource]) => [placeholder, config.resources[resource]])),
  };
}

/** Reads, fills and validates one ASL file, once: building costs 100-600 ms, running is cheap. */
export function compileStateMachine(name: StateMachineName, config: LocalConfig): CompiledStateMachine {
  const spec = STATE_MACHINES[name];
  const definition = substitute(readFileSync(join(PROJECT_ROOT, spec.definitionFile), 'utf8'), localSubstitutions(name, config));
  return compileDefinition(name, definition, spec.description);
}

/** Builds a state machine from a filled definition (its Tasks must call registered Lambdas by local ARN). */
export function compileDefinition(name: string, definition: string, description: string): CompiledStateMachine {
  const bindings = new Map<string, LocalBinding>();
  const runnable = localize(JSON.parse(definition) as Json, bindings);
  return {
    name,
    arn: stateMachineArn(name),
    description,
    definition,
    machine: new StateMachine(runnable as StateMachineDefinition),
    bindings,
    createdAt: new Date(),
  };
}

/**
 * Rewrites a definition for the library: each Distributed Map becomes a Task that the endpoint implements
 * (keeping the Map's InputPath, ResultSelector, ResultPath, OutputPath, Retry, Catch and transition), and each
 * Task on a Lambda is recorded with the handler that serves it.
 */
function localize(definition: Json, bindings: Map<string, LocalBinding>): Json {
  const states: Record<string, Json> = {};
  for (const [stateName, state] of Object.entries<Json>(definition.States)) {
    if (bindings.has(stateName)) throw new Error(`state name "${stateName}" is used twice; local handlers are bound by state name`);
    if (state.Type === 'Task') {
      bindings.set(stateName, taskBinding(stateName, state));
      states[stateName] = state;
    } else if (state.Type === 'Map' && state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
      bindings.set(stateName, distributedMap(stateName, state, bindings));
      states[stateName] = mapStandIn(state);
    } else if (state.Type === 'Map') {
      const processor = state.ItemProcessor ?? state.Iterator;
      states[stateName] = { ...state, [state.ItemProcessor ? 'ItemProcessor' : 'Iterator']: localize(processor, bindings) };
    } else if (state.Type === 'Parallel') {
      states[stateName] = { ...state, Branches: state.Branches.map((branch: Json) => localize(branch, bindings)) };
    } else {
      states[stateName] = state;
    }
  }
  return { ...definition, States: states };
}

function taskBinding(stateName: string, state: Json): TaskBinding {
  const style = state.Resource === LAMBDA_INVOKE || state.Resource === `${LAMBDA_INVOKE}.waitForTaskToken` ? 'invoke' : 'arn';
  const functionName = functionNameOf(style === 'invoke' ? String(state.Parameters?.FunctionName ?? '') : String(state.Resource));
  if (!Object.hasOwn(LAMBDAS, functionName)) {
    throw new Error(`Task state "${stateName}" calls "${state.Resource}", which is no registered Lambda (lambdas/registry.ts)`);
  }
  return { kind: 'task', stateName, lambda: functionName as LambdaName, style, timeoutMs: (state.TimeoutSeconds ?? 60) * 1000 };
}

function distributedMap(stateName: string, state: Json, bindings: Map<string, LocalBinding>): DistributedMapSpec {
  const processor = state.ItemProcessor;
  const { ProcessorConfig: _config, ...childDefinition } = processor;
  const reader = state.ItemReader;
  if (reader && reader.Resource !== 'arn:aws:states:::s3:listObjectsV2') {
    throw new Error(`Map "${stateName}": the local endpoint reads items with s3:listObjectsV2 only, not ${reader.Resource}`);
  }
  if (state.ItemBatcher) throw new Error(`Map "${stateName}": ItemBatcher is not supported by the local endpoint`);
  const selector = state.ItemSelector ?? state.Parameters;
  return {
    kind: 'distributedMap',
    stateName,
    ...(reader ? { readerParameters: evaluator(reader.Parameters ?? {}), readerResource: reader.Resource } : {}),
    ...(reader?.ReaderConfig?.MaxItems ? { maxItems: reader.ReaderConfig.MaxItems } : {}),
    itemsPath: evaluator({ 'items.$': state.ItemsPath ?? '$' }),
    ...(selector ? { itemSelector: evaluator(selector) } : {}),
    child: new StateMachine(localize(childDefinition, bindings) as StateMachineDefinition),
    maxConcurrency: state.MaxConcurrency || 1000,
    toleratedFailurePercentage: state.ToleratedFailurePercentage ?? 0,
    toleratedFailureCount: state.ToleratedFailureCount ?? 0,
    ...(state.ResultWriter?.Parameters ? { resultWriter: evaluator(state.ResultWriter.Parameters) } : {}),
  };
}

function mapStandIn(state: Json): Json {
  const kept = ['Comment', 'InputPath', 'ResultSelector', 'ResultPath', 'OutputPath', 'Retry', 'Catch', 'Next', 'End'];
  return {
    Type: 'Task',
    Resource: DISTRIBUTED_MAP_RESOURCE,
    TimeoutSeconds: DISTRIBUTED_MAP_TIMEOUT_SECONDS,
    ...Object.fromEntries(kept.filter((field) => field in state).map((field) => [field, state[field]])),
  };
}

/** A payload template evaluated by the library itself (paths, $$ context, intrinsic functions). */
function evaluator(template: Json): StateMachineType {
  return new StateMachine({ StartAt: 'Evaluate', States: { Evaluate: { Type: 'Pass', Parameters: template, End: true } } } as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
}

export async function evaluate(template: StateMachineType, input: unknown, context: Record<string, unknown> = {}): Promise<Json> {
  return template.run(input as Json, { context }).result;
}
