import { parseArgs } from 'node:util';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { parseQueueUrls, type AwsPipelineResources } from '../adapters/pipeline-probe/aws-pipeline-probe';
import { PIPE_DEAD_LETTER_QUEUE, STACK_OUTPUTS, stackNameOf, type StackOutputKey } from '../infra/stack-outputs';

/** Everything `cdc-cart --aws` talks to, read from one deployed stage's stack outputs. */
export interface AwsStack extends AwsPipelineResources {
  readonly stage: string;
  readonly stackName: string;
  readonly region: string;
  readonly apiUrl: string;
  readonly cartSummaryTable: string;
  readonly itemPopularityTable: string;
  readonly alarmTopicArn: string;
}

export class AwsStackError extends Error {
  override readonly name = 'AwsStackError';
}

/** Bad use of --aws/--stage/--region: exit 2 with the usage text. */
export class AwsUsageError extends Error {
  override readonly name = 'AwsUsageError';
}

/** The flags every command takes to run against AWS instead of the local stack. */
export const AWS_FLAGS = { aws: { type: 'boolean' }, stage: { type: 'string' }, region: { type: 'string' } } as const;

/**
 * Resolves the stage's resources from its CloudFormation stack (DescribeStacks, with the SDK's default credential
 * chain and region unless --region is given). Every output named in infra/stack-outputs.ts must be there: a stack
 * deployed from an older version lacks some, and the message says to deploy this one.
 */
export async function resolveAwsStack(stage: string, region: string | undefined, cloudFormation = new CloudFormationClient(region ? { region } : {})): Promise<AwsStack> {
  const stackName = stackNameOf(stage);
  const resolvedRegion = region ?? (await cloudFormation.config.region());
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const { Stacks } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Stacks?.[0]?.Outputs ?? [];
  } catch (error) {
    if ((error as Error).name === 'ValidationError' && /does not exist/.test((error as Error).message)) {
      throw new AwsStackError(`no stack ${stackName} in ${resolvedRegion}: deploy the stage first (npx cdk deploy -c stage=${stage}), or pass --region`);
    }
    throw error;
  }
  const byKey = new Map(outputs.map((output) => [output.OutputKey, output.OutputValue]));
  const missing = (Object.values(STACK_OUTPUTS) as string[]).filter((key) => !byKey.get(key));
  if (missing.length > 0) throw new AwsStackError(`stack ${stackName} has no output ${missing.join(', ')}: it was deployed from an older version; deploy this one (npx cdk deploy -c stage=${stage})`);
  const value = (key: StackOutputKey) => byKey.get(STACK_OUTPUTS[key])!;
  return {
    stage,
    stackName,
    region: resolvedRegion,
    apiUrl: value('apiUrl'),
    eventStoreTable: value('eventStoreTable'),
    eventsStream: value('eventsStream'),
    archiveBucket: value('archiveBucket'),
    replayStateMachineArn: value('replayStateMachineArn'),
    cartSummaryTable: value('cartSummaryTable'),
    itemPopularityTable: value('itemPopularityTable'),
    alarmTopicArn: value('alarmTopicArn'),
    eventLogLogGroup: value('eventLogLogGroup'),
    deadLetterQueueUrls: parseQueueUrls(value('deadLetterQueueUrls')),
    pipeDeadLetterQueue: PIPE_DEAD_LETTER_QUEUE,
  };
}

/** `--aws --stage S [--region R]` anywhere after the command; the rest is the command's own. */
export function takeAwsFlags(args: readonly string[]): { aws?: { stage: string; region?: string }; rest: string[] } {
  const { values, tokens } = parseArgs({ args: [...args], options: AWS_FLAGS, strict: false, tokens: true, allowPositionals: true });
  const taken = new Set<number>();
  for (const token of tokens ?? []) {
    if (token.kind !== 'option' || !(token.name in AWS_FLAGS)) continue;
    taken.add(token.index);
    if (token.inlineValue === false && token.name !== 'aws') taken.add(token.index + 1);
  }
  const rest = args.filter((_, index) => !taken.has(index));
  if (values.aws !== true) {
    if (values.stage !== undefined || values.region !== undefined) throw new AwsUsageError('--stage and --region go with --aws');
    return { rest };
  }
  if (typeof values.stage !== 'string' || values.stage === '') throw new AwsUsageError('--aws needs --stage NAME (the stage deployed with cdk deploy -c stage=NAME)');
  return { aws: { stage: values.stage, ...(typeof values.region === 'string' ? { region: values.region } : {}) }, rest };
}

