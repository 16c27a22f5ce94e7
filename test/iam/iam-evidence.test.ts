import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { AWS_CALL_RECORDING_DIR, type RecordedCall } from '../../adapters/aws-call-recorder';
import { aslRequirements } from '../../infra/asl-definition';
import { PROJECT_ROOT, REGISTRY_METADATA_KEY } from '../../infra/constructs/registry-functions';
import { defaultTemplateForTests } from '../../infra/testing';
import { ENV } from '../../lambdas/environment';
import { handlerEnvironment, loadLocalConfig } from '../../local/config';
import { STATE_MACHINES } from '../../statemachines/state-machines';
import { ACCOUNT, DeployedTemplate, PARTITION, REGION, type PolicyDocument } from './deployed-template';

/**
 * IAM from evidence. The integration and reliability runs record every AWS call each Lambda handler made
 * (adapters/aws-call-recorder.ts); here each call is evaluated, with a real IAM policy evaluator, against the
 * policies of that Lambda's role in the synthesized template (plus the resource policy of its target). The calls
 * AWS services make on the stack's behalf (Pipe, Firehose, Step Functions, event source mappings, CloudWatch
 * alarms) cannot be recorded locally; they are checked the same way from the calls their documentation lists.
 *
 * Run by `npm test` after the integration and reliability runs, with AWS_CALL_RECORDING_DIR set for all three.
 */

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

interface IamCheck {
  readonly who: string;
  /** A role ARN of the stack, or a service principal such as cloudwatch.amazonaws.com. */
  readonly principal: string;
  readonly identityPolicies: { name: string; policy: PolicyDocument }[];
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
  /** Defaults to the template's policy for the resource (bucket, queue, topic, key); `null`: none applies. */
  readonly resourcePolicy?: PolicyDocument | null;
}

const synthesized = defaultTemplateForTests();
const template = new DeployedTemplate(synthesized.template.toJSON() as Json);

async function evaluate(check: IamCheck): Promise<string | undefined> {
  const resourcePolicy = check.resourcePolicy === undefined ? template.resourcePolicyFor(check.resource) : (check.resourcePolicy ?? undefined);
  const result = await runSimulation(
    {
      request: {
        principal: check.principal,
        action: check.action,
        resource: { resource: check.resource, accountId: ACCOUNT },
        // Every SDK call goes over TLS; the enforceSSL deny statements must not catch it.
        contextVariables: { 'aws:SecureTransport': 'true', ...check.context },
      },
      identityPolicies: check.identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
    },
    {},
  );
  if (result.resultType === 'error') return `${check.who}: ${check.action} on ${check.resource}: simulation error ${JSON.stringify(result.errors)}`;
  if (result.overallResult === 'Allowed') return undefined;
  return `${check.who}: ${check.action} on ${check.resource} is ${result.overallResult}`;
}

async function failuresOf(checks: readonly IamCheck[]): Promise<string[]> {
  const failures: string[] = [];
  for (const check of checks) {
    const failure = await evaluate(check);
    if (failure) failures.push(failure);
  }
  return failures;
}

/** The role of a resource (`RoleArn`-like property `Fn::GetAtt [Role, Arn]`): principal ARN and policies. */
function roleOf(roleArn: Json): Pick<IamCheck, 'principal' | 'identityPolicies'> {
  const id = template.roleIdOf(roleArn);
  return { principal: template.attribute(id, 'Arn'), identityPolicies: template.rolePolicies(id) };
}

/** Registry name -> deployed function (logical id) and its role. */
function deployedFunctions(): Map<string, { id: string } & Pick<IamCheck, 'principal' | 'identityPolicies'>> {
  const functions = new Map<string, { id: string } & Pick<IamCheck, 'principal' | 'identityPolicies'>>();
  for (const id of template.idsOfType('AWS::Lambda::Function')) {
    const registryName = template.resource(id).Metadata?.[REGISTRY_METADATA_KEY]?.name;
    if (registryName) functions.set(registryName, { id, ...roleOf(template.resource(id).Properties.Role) });
  }
  return functions;
}

const SERVICE_OF_TYPE: Record<string, string> = {
  'AWS::DynamoDB::Table': 'dynamodb',
  'AWS::Kinesis::Stream': 'kinesis',
  'AWS::S3::Bucket': 's3',
  'AWS::SQS::Queue': 'sqs',
};

/**
 * Local resource name -> deployed resource, by the environment variable that hands the name to the handlers:
 * locally `handlerEnvironment` sets it to the local name, on AWS the function's environment refers to the resource.
 */
function localToDeployed(): Map<string, string> {
  const variableToResource = new Map<string, string>();
  for (const id of template.idsOfType('AWS::Lambda::Function')) {
    for (const [variable, value] of Object.entries<Json>(template.resource(id).Properties.Environment?.Variables ?? {})) {
      if (value?.Ref) variableToResource.set(variable, value.Ref);
    }
  }
  const mapping = new Map<string, string>();
  for (const [variable, localName] of Object.entries(handlerEnvironment(loadLocalConfig()))) {
    const resource = variableToResource.get(variable);
    const service = resource && SERVICE_OF_TYPE[template.resource(resource).Type];
    if (service) mapping.set(`${service}:${localName}`, resource!);
  }
  return mapping;
}

/** A recorded (local) ARN as the same resource's ARN in the deployed stack. */
function deployedArn(localArn: string, mapping: Map<string, string>): string {
  if (localArn === '*') return '*';
  const s3 = /^arn:aws:s3:::([^/]+)(\/.*)?$/.exec(localArn);
  const regional = /^arn:aws:(dynamodb|kinesis|sqs):[^:]*:[^:]*:(?:table\/|stream\/)?([^/]+)(\/.*)?$/.exec(localArn);
  const [service, name, rest] = s3 ? ['s3', s3[1]!, s3[2] ?? ''] : regional ? [regional[1]!, regional[2]!, regional[3] ?? ''] : [];
  const resource = service && mapping.get(`${service}:${name}`);
  if (!resource) throw new Error(`recorded a call on ${localArn}, which no resource of the stack stands for (known: ${[...mapping.keys()].join(', ')})`);
  return `${template.attribute(resource, 'Arn')}${rest}`;
}

function readRecordedCalls(): RecordedCall[] {
  const directory = process.env[AWS_CALL_RECORDING_DIR];
  if (!directory || !existsSync(directory)) {
    throw new Error(
      `${AWS_CALL_RECORDING_DIR} must name the directory the integration and reliability runs recorded into; run \`npm test\`, ` +
        `or export ${AWS_CALL_RECORDING_DIR}=$(mktemp -d) and run jest, the reliability tests, then this test`,
    );
  }
  const lines = readdirSync(directory)
    .filter((file) => file.endsWith('.jsonl'))
    .flatMap((file) => readFileSync(join(directory, file), 'utf8').split('\n').filter(Boolean));
  return [...new Set(lines)].map((line) => JSON.parse(line) as RecordedCall);
}

/** Does an action pattern of a policy (`dynamodb:Get*`, `*`) cover an action? */
function covers(pattern: string, action: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return regex.test(action);
}

describe('IAM from evidence: the calls the handlers made, against their roles in the synthesized template', () => {
  const calls = readRecordedCalls();
  const functions = deployedFunctions();
  const mapping = localToDeployed();

  it('recorded calls of the handlers that the tests exercise', () => {
    const recordedFunctions = new Set(calls.map((call) => call.function));
    // The integration run drives the API, the Pipe, both consumers, replay and backfill: their handlers must show up,
    // or the recording itself is broken and every check below would pass on nothing.
    for (const name of ['cartApi', 'readApi', 'projections', 'replayObject', 'backfillSegment']) {
      expect({ name, recorded: recordedFunctions.has(name) }).toEqual({ name, recorded: true });
    }
  });

  it('allows every recorded call in the role of the Lambda that made it', async () => {
    const checks: IamCheck[] = calls.map((call) => {
      const deployed = functions.get(call.function);
      if (!deployed) throw new Error(`calls recorded for "${call.function}", which the stack does not deploy`);
      return { who: `${call.function} (${call.operation})`, ...deployed, action: call.action, resource: deployedArn(call.resource, mapping), ...(call.context ? { context: call.context } : {}) };
    });
    expect(await failuresOf(checks)).toEqual([]);
  });

  // A listing, not a check: a grant no test used is either a path no test takes (worth a test) or a grant too many.
  // Left out: what the Lambda service uses for the function (logs, X-Ray, and the event source mapping's stream reads
  // and on-failure queue, checked as documented calls below).
  afterAll(() => {
    const unused: string[] = [];
    const consumers = new Set(template.idsOfType('AWS::Lambda::EventSourceMapping').map((id) => template.resource(id).Properties.FunctionName.Ref as string));
    const usedByLambdaService = (functionId: string, action: string) =>
      /^(logs|xray):/.test(action) || (consumers.has(functionId) && /^(kinesis:(Describe|Get|List|Subscribe)|sqs:(GetQueue|SendMessage))/.test(action));
    for (const [name, { id, identityPolicies }] of functions) {
      const used = calls.filter((call) => call.function === name).map((call) => call.action);
      const granted = identityPolicies.flatMap(({ policy }) =>
        policy.Statement.filter((statement: Json) => statement.Effect === 'Allow').flatMap((statement: Json) => [statement.Action].flat() as string[]),
      );
      for (const action of new Set(granted)) {
        if (!usedByLambdaService(id, action) && !used.some((usedAction) => covers(action, usedAction))) unused.push(`${name}: ${action}`);
      }
    }
    console.log(`Granted to handlers but used by no recorded call (${unused.length}):\n  ${unused.join('\n  ')}`);
  });
});

describe('IAM for the calls AWS services make on the stack\'s behalf (documented calls)', () => {
  const functions = deployedFunctions();
  const sample = (text: string) => text.replace(/!\{timestamp:[^}]+\}/g, '2026/01/01/00').replace(/!\{firehose:[^}]+\}/g, 'processing-failed');

  it('the CDC Pipe reads the table stream, invokes the enrichment, writes Kinesis, dead-letters to SQS, logs', async () => {
    const checks: IamCheck[] = [];
    for (const id of template.idsOfType('AWS::Pipes::Pipe')) {
      const pipe = template.resource(id).Properties;
      const role = roleOf(pipe.RoleArn);
      const who = `Pipe ${id}`;
      const source = template.resolve(pipe.Source) as string;
      const pipeArn = template.attribute(id, 'Arn');
      checks.push(assumeRole(who, pipe.RoleArn, 'pipes.amazonaws.com', { 'aws:SourceArn': pipeArn, 'aws:SourceAccount': ACCOUNT }));
      // EventBridge user guide, "Amazon DynamoDB stream as a source": execution role permissions.
      for (const action of ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']) checks.push({ who, ...role, action, resource: source });
      checks.push({ who, ...role, action: 'dynamodb:ListStreams', resource: '*' });
      checks.push({ who, ...role, action: 'lambda:InvokeFunction', resource: template.resolve(pipe.Enrichment) });
      for (const action of ['kinesis:PutRecord', 'kinesis:PutRecords']) checks.push({ who, ...role, action, resource: template.resolve(pipe.Target) });
      const deadLetterQueue = template.resolve(pipe.SourceParameters.DynamoDBStreamParameters.DeadLetterConfig.Arn) as string;
      checks.push({ who, ...role, action: 'sqs:SendMessage', resource: deadLetterQueue });
      const logGroup = template.resolve(pipe.LogConfiguration.CloudwatchLogsLogDestination.LogGroupArn) as string;
      for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) checks.push({ who, ...role, action, resource: logStreamArn(logGroup) });
    }
    expect(checks.length).toBeGreaterThan(0);
    expect(await failuresOf(checks)).toEqual([]);
  });

  it('Firehose reads the events stream and writes the archive and error prefixes', async () => {
    const checks: IamCheck[] = [];
    for (const id of template.idsOfType('AWS::KinesisFirehose::DeliveryStream')) {
      const delivery = template.resource(id).Properties;
      const who = `Firehose ${id}`;
      const source = delivery.KinesisStreamSourceConfiguration;
      const sourceRole = roleOf(source.RoleARN);
      checks.push(assumeRole(who, source.RoleARN, 'firehose.amazonaws.com', { 'aws:SourceAccount': ACCOUNT }));
      // Firehose developer guide, "Grant Firehose access to an Amazon S3 destination" (Kinesis stream as source).
      for (const action of ['kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards']) {
        checks.push({ who, ...sourceRole, action, resource: template.resolve(source.KinesisStreamARN) });
      }
      const destination = delivery.ExtendedS3DestinationConfiguration;
      const role = roleOf(destination.RoleARN);
      const bucket = template.resolve(destination.BucketARN) as string;
      for (const action of ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads']) checks.push({ who, ...role, action, resource: bucket });
      for (const prefix of [destination.Prefix, destination.ErrorOutputPrefix] as string[]) {
        for (const action of ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload']) {
          checks.push({ who, ...role, action, resource: `${bucket}/${sample(prefix)}archive-1-2026-01-01-00-00-00-abcd.jsonl` });
        }
      }
      const logging = destination.CloudWatchLoggingOptions;
      if (logging?.Enabled) {
        const group = template.resolve(logging.LogGroupName);
        const stream = template.resolve(logging.LogStreamName);
        checks.push({ who, ...role, action: 'logs:PutLogEvents', resource: `arn:${PARTITION}:logs:${REGION}:${ACCOUNT}:log-group:${group}:log-stream:${stream}` });
      }
    }
    expect(checks.length).toBeGreaterThan(0);
    expect(await failuresOf(checks)).toEqual([]);
  });

  it('each state machine invokes its Lambdas, reads and writes what its ASL names, runs its Distributed Map, logs', async () => {
    const checks: IamCheck[] = [];
    for (const id of template.idsOfType('AWS::StepFunctions::StateMachine')) {
      const machine = template.resource(id).Properties;
      const name = template.physicalName(id);
      const who = `state machine ${name}`;
      const role = roleOf(machine.RoleArn);
      const ownArn = template.attribute(id, 'Arn');
      checks.push(assumeRole(who, machine.RoleArn, 'states.amazonaws.com', { 'aws:SourceArn': ownArn, 'aws:SourceAccount': ACCOUNT }));
      const substitutions = template.resolve(machine.DefinitionSubstitutions) as Record<string, string>;
      for (const value of Object.values(substitutions).filter((v) => v.includes(':lambda:'))) {
        checks.push({ who, ...role, action: 'lambda:InvokeFunction', resource: value });
      }
      const spec = Object.values(STATE_MACHINES).find((s) => name.endsWith(`-${s.definitionFile.split('/').pop()!.replace('.asl.json', '')}`));
      if (!spec) throw new Error(`no statemachines/ definition for ${name}`);
      const requirements = aslRequirements(readFileSync(join(PROJECT_ROOT, spec.definitionFile), 'utf8'));
      // Step Functions developer guide, "IAM policies for using Distributed Map states".
      for (const bucket of requirements.listedBuckets) checks.push({ who, ...role, action: 's3:ListBucket', resource: `arn:${PARTITION}:s3:::${substitutions[bucket]}` });
      for (const writer of requirements.resultWriters) {
        for (const action of ['s3:PutObject', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:AbortMultipartUpload']) {
          checks.push({ who, ...role, action, resource: `arn:${PARTITION}:s3:::${substitutions[writer.bucket]}/${writer.prefix}/0f1e2d3c/manifest.json` });
        }
      }
      if (requirements.distributedMap) {
        checks.push({ who, ...role, action: 'states:StartExecution', resource: ownArn });
        for (const action of ['states:DescribeExecution', 'states:StopExecution']) {
          checks.push({ who, ...role, action, resource: `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:execution:${name}/ScanSegments:child-1` });
        }
        // Redriving a failed execution restarts its Map Run's child executions, and the machine describes its own.
        checks.push({ who, ...role, action: 'states:RedriveExecution', resource: `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:execution:${name}/ScanSegments:child-1` });
        checks.push({ who, ...role, action: 'states:DescribeExecution', resource: `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:execution:${name}:replay-1` });
      }
      // Logging to CloudWatch Logs goes through vended log deliveries, which take no resource-level permissions.
      for (const action of ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups']) {
        checks.push({ who, ...role, action, resource: '*' });
      }
      for (const action of ['xray:PutTraceSegments', 'xray:PutTelemetryRecords']) checks.push({ who, ...role, action, resource: '*' });
    }
    expect(template.idsOfType('AWS::StepFunctions::StateMachine')).toHaveLength(Object.keys(STATE_MACHINES).length);
    expect(await failuresOf(checks)).toEqual([]);
  });

  it('each event source mapping reads the stream and sends failed batches to its on-failure queue (function role)', async () => {
    const checks: IamCheck[] = [];
    for (const id of template.idsOfType('AWS::Lambda::EventSourceMapping')) {
      const mapping = template.resource(id).Properties;
      const functionId = mapping.FunctionName.Ref as string;
      const deployed = [...functions.entries()].find(([, f]) => f.id === functionId);
      if (!deployed) throw new Error(`event source mapping ${id} invokes ${functionId}, no registry Lambda`);
      const [name, role] = deployed;
      const who = `event source mapping of ${name}`;
      const stream = template.resolve(mapping.EventSourceArn) as string;
      // Lambda developer guide, "Kinesis: execution role permissions" (AWSLambdaKinesisExecutionRole without fan-out).
      for (const action of ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards']) {
        checks.push({ who, principal: role.principal, identityPolicies: role.identityPolicies, action, resource: stream });
      }
      const onFailure = template.resolve(mapping.DestinationConfig?.OnFailure?.Destination) as string | undefined;
      expect({ mapping: id, onFailure: Boolean(onFailure) }).toEqual({ mapping: id, onFailure: true });
      checks.push({ who, principal: role.principal, identityPolicies: role.identityPolicies, action: 'sqs:SendMessage', resource: onFailure! });
    }
    expect(checks.length).toBeGreaterThan(0);
    expect(await failuresOf(checks)).toEqual([]);
  });

  it('the enrichment sends what it cannot split to the Pipe\'s dead-letter queue (an SQS path the local stand-in replaces)', async () => {
    const enrichment = functions.get('cdcEnrichment')!;
    const variables = template.resource(enrichment.id).Properties.Environment.Variables;
    const queueUrl = template.resolve(variables[ENV.deadLetterQueueUrl]) as string;
    const queueId = template.idsOfType('AWS::SQS::Queue').find((id) => template.ref(id) === queueUrl)!;
    expect(queueId).toBeDefined();
    expect(await failuresOf([{ who: 'cdcEnrichment (SendMessageBatch)', ...enrichment, action: 'sqs:SendMessage', resource: template.attribute(queueId, 'Arn') }])).toEqual([]);
  });

  it('every alarm can publish to its topic: topic policy and the topic key\'s policy allow CloudWatch', async () => {
    const checks: IamCheck[] = [];
    for (const id of template.idsOfType('AWS::CloudWatch::Alarm')) {
      const alarm = template.resource(id).Properties;
      const alarmArn = template.attribute(id, 'Arn');
      const context = { 'aws:SourceArn': alarmArn, 'aws:SourceAccount': ACCOUNT };
      const topics = template.resolve([...(alarm.AlarmActions ?? []), ...(alarm.OKActions ?? [])]) as string[];
      expect({ alarm: id, topics: topics.length > 0 }).toEqual({ alarm: id, topics: true });
      for (const topicArn of new Set(topics)) {
        const who = `alarm ${template.physicalName(id)}`;
        checks.push({ who, principal: 'cloudwatch.amazonaws.com', identityPolicies: [], action: 'sns:Publish', resource: topicArn, context });
        const topicId = template.idsOfType('AWS::SNS::Topic').find((t) => template.ref(t) === topicArn)!;
        const keyArn = template.resolve(template.resource(topicId).Properties.KmsMasterKeyId);
        // SNS developer guide, "Enable compatibility between event sources from AWS services and encrypted topics".
        // Without the alarm's aws:SourceArn/aws:SourceAccount: AWS does not document them as reaching KMS when SNS
        // uses the key for the alarm, so the key policy must allow the call without them.
        if (typeof keyArn === 'string' && keyArn.includes(':key/')) {
          for (const action of ['kms:Decrypt', 'kms:GenerateDataKey']) checks.push({ who, principal: 'cloudwatch.amazonaws.com', identityPolicies: [], action, resource: keyArn, context: {} });
        }
      }
    }
    expect(checks.length).toBeGreaterThan(0);
    expect(await failuresOf(checks)).toEqual([]);
  });

  it('the data stores use AWS managed keys, so no reader or writer needs a KMS grant or key policy', () => {
    const customerKeys: string[] = [];
    for (const id of template.idsOfType('AWS::Kinesis::Stream')) {
      const encryption = template.resource(id).Properties.StreamEncryption;
      if (encryption?.KeyId !== 'alias/aws/kinesis') customerKeys.push(`${id}: ${JSON.stringify(encryption)}`);
    }
    for (const id of template.idsOfType('AWS::SQS::Queue')) {
      if (template.resource(id).Properties.KmsMasterKeyId) customerKeys.push(`${id}: SSE-KMS`);
    }
    for (const id of template.idsOfType('AWS::DynamoDB::Table')) {
      if (template.resource(id).Properties.SSESpecification?.KMSMasterKeyId) customerKeys.push(`${id}: customer managed key`);
    }
    for (const id of template.idsOfType('AWS::S3::Bucket')) {
      const rules = template.resource(id).Properties.BucketEncryption?.ServerSideEncryptionConfiguration ?? [];
      if (rules.some((rule: Json) => rule.ServerSideEncryptionByDefault?.SSEAlgorithm !== 'AES256')) customerKeys.push(`${id}: SSE-KMS`);
    }
    // A customer managed key here needs its key-policy checks in the tests above before it ships.
    expect(customerKeys).toEqual([]);
  });
});

function assumeRole(who: string, roleArn: Json, service: string, context: Record<string, string>): IamCheck {
  const roleId = template.roleIdOf(roleArn);
  return {
    who: `${who} (assume role)`,
    principal: service,
    identityPolicies: [],
    action: 'sts:AssumeRole',
    resource: template.attribute(roleId, 'Arn'),
    context,
    resourcePolicy: template.resolve(template.resource(roleId).Properties.AssumeRolePolicyDocument),
  };
}

function logStreamArn(logGroupArn: string): string {
  return `${logGroupArn.replace(/:\*$/, '')}:log-stream:2026/01/01/stream-1`;
}
