import { readFileSync } from 'node:fs';
import { PARTITION_PLACEHOLDER } from '../statemachines/state-machines';

/**
 * What a state machine definition (ASL) needs from its deployment, read from the file itself so that CDK grants
 * exactly what the definition does: its `${Placeholder}` substitutions, the Distributed Maps (child executions),
 * the S3 buckets their ItemReaders list and the prefixes their ResultWriters write.
 */
export interface AslRequirements {
  readonly placeholders: readonly string[];
  readonly distributedMap: boolean;
  /** Placeholder names (e.g. "ArchiveBucket") of buckets an ItemReader lists with s3:listObjectsV2. */
  readonly listedBuckets: readonly string[];
  /** Placeholder name of the bucket and key prefix a ResultWriter writes its manifest and results under. */
  readonly resultWriters: readonly { bucket: string; prefix: string }[];
  /** The longest TimeoutSeconds of the Task states whose Resource is each `${XxxFunctionArn}` placeholder. */
  readonly taskTimeoutSeconds: Readonly<Record<string, number>>;
}

const PLACEHOLDER = /\$\{([A-Za-z][A-Za-z0-9]*)\}/g;

/** An optimized service integration as the ASL files write it: in the partition placeholder's partition. */
export function serviceIntegration(action: string): string {
  return `arn:\${${PARTITION_PLACEHOLDER}}:states:::${action}`;
}

export function readAslRequirements(file: string): AslRequirements {
  const text = readFileSync(file, 'utf8');
  return aslRequirements(text);
}

export function aslRequirements(text: string): AslRequirements {
  const placeholders = [...new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1]!))].sort();
  const definition = JSON.parse(text) as AslNode;
  const found = { distributedMap: false, listedBuckets: new Set<string>(), resultWriters: [] as { bucket: string; prefix: string }[] };
  const taskTimeoutSeconds: Record<string, number> = {};
  visitStates(definition, (state) => {
    const resource = typeof state.Resource === 'string' ? /^\$\{([A-Za-z][A-Za-z0-9]*)\}$/.exec(state.Resource)?.[1] : undefined;
    if (state.Type === 'Task' && resource && typeof state.TimeoutSeconds === 'number') {
      taskTimeoutSeconds[resource] = Math.max(taskTimeoutSeconds[resource] ?? 0, state.TimeoutSeconds);
    }
    if (state.Type !== 'Map') return;
    if (state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') found.distributedMap = true;
    const reader = state.ItemReader;
    if (reader?.Resource === serviceIntegration('s3:listObjectsV2')) {
      found.listedBuckets.add(placeholderIn(reader.Parameters?.Bucket, 'ItemReader.Parameters.Bucket'));
    } else if (reader) {
      throw new Error(`unsupported ItemReader ${String(reader.Resource)}: grant its permissions in infra/ before using it`);
    }
    const writer = state.ResultWriter;
    if (writer) {
      if (writer.Resource !== serviceIntegration('s3:putObject')) throw new Error(`unsupported ResultWriter ${String(writer.Resource)}`);
      const prefix = writer.Parameters?.Prefix;
      if (typeof prefix !== 'string' || prefix === '') throw new Error('a ResultWriter needs a fixed Prefix, so that its grant can be scoped to it');
      found.resultWriters.push({ bucket: placeholderIn(writer.Parameters?.Bucket, 'ResultWriter.Parameters.Bucket'), prefix });
    }
  });
  return { placeholders, distributedMap: found.distributedMap, listedBuckets: [...found.listedBuckets], resultWriters: found.resultWriters, taskTimeoutSeconds };
}

interface AslNode {
  Type?: string;
  Resource?: unknown;
  TimeoutSeconds?: unknown;
  States?: Record<string, AslNode>;
  Branches?: AslNode[];
  Iterator?: AslNode;
  ItemProcessor?: AslNode & { ProcessorConfig?: { Mode?: string } };
  ItemReader?: { Resource?: string; Parameters?: Record<string, unknown> };
  ResultWriter?: { Resource?: string; Parameters?: Record<string, unknown> };
}

function visitStates(node: AslNode, visit: (state: AslNode) => void): void {
  for (const state of Object.values(node.States ?? {})) {
    visit(state);
    for (const branch of state.Branches ?? []) visitStates(branch, visit);
    if (state.Iterator) visitStates(state.Iterator, visit);
    if (state.ItemProcessor) visitStates(state.ItemProcessor, visit);
  }
}

function placeholderIn(value: unknown, where: string): string {
  const match = typeof value === 'string' ? /^\$\{([A-Za-z][A-Za-z0-9]*)\}$/.exec(value) : null;
  if (!match) throw new Error(`${where} must be a \${Placeholder} that CDK substitutes with a bucket of the stack, got ${JSON.stringify(value)}`);
  return match[1]!;
}

/** `${ReplayObjectFunctionArn}` names the registry Lambda `replayObject`. */
export function lambdaNameOfPlaceholder(placeholder: string): string | undefined {
  const match = /^([A-Z][A-Za-z0-9]*)FunctionArn$/.exec(placeholder);
  return match ? match[1]!.charAt(0).toLowerCase() + match[1]!.slice(1) : undefined;
}
