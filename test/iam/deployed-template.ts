/**
 * The synthesized template as it would be once deployed: every intrinsic resolved to the concrete names and ARNs
 * CloudFormation would give the resources in one example account and region, so that a policy evaluator can judge
 * requests against the policies exactly as IAM would see them.
 */
export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';
export const PARTITION = 'aws';
const STACK_NAME = 'CartEvents-dev';
/** A DynamoDB stream label is assigned at creation; any fixed one will do. */
const STREAM_LABEL = '2026-01-01T00:00:00.000';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Json;
  readonly Metadata?: Json;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly Json[];
}

export class DeployedTemplate {
  readonly resources: Record<string, TemplateResource>;

  constructor(template: { Resources: Record<string, TemplateResource> }) {
    this.resources = template.Resources;
  }

  resource(logicalId: string): TemplateResource {
    const resource = this.resources[logicalId];
    if (!resource) throw new Error(`the template has no resource ${logicalId}`);
    return resource;
  }

  idsOfType(type: string): string[] {
    return Object.entries(this.resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([id]) => id);
  }

  /** Resolves Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split anywhere in a value. */
  resolve(value: Json): Json {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const [key] = keys as [string];
      const argument = value[key];
      switch (key) {
        case 'Ref':
          return this.ref(argument);
        case 'Fn::GetAtt':
          return this.attribute(...((typeof argument === 'string' ? argument.split('.') : argument) as [string, string]));
        case 'Fn::Join': {
          const [separator, parts] = argument as [string, Json[]];
          return this.resolve(parts).join(separator);
        }
        case 'Fn::Sub': {
          const [text, variables] = (typeof argument === 'string' ? [argument, {}] : argument) as [string, Record<string, Json>];
          return text.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
            if (name in variables) return String(this.resolve(variables[name]));
            return String(name.includes('.') ? this.attribute(...(name.split('.') as [string, string])) : this.ref(name));
          });
        }
        case 'Fn::Select': {
          const [index, list] = argument as [number, Json];
          return this.resolve(list)[index];
        }
        case 'Fn::Split': {
          const [separator, text] = argument as [string, Json];
          return String(this.resolve(text)).split(separator);
        }
      }
      if (key.startsWith('Fn::')) throw new Error(`unsupported intrinsic ${key}`);
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, this.resolve(item)]));
  }

  ref(name: string): string {
    const pseudo: Record<string, string> = {
      'AWS::Partition': PARTITION,
      'AWS::Region': REGION,
      'AWS::AccountId': ACCOUNT,
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': STACK_NAME,
    };
    if (pseudo[name]) return pseudo[name];
    const resource = this.resource(name);
    switch (resource.Type) {
      case 'AWS::SQS::Queue':
        return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${this.physicalName(name)}`;
      case 'AWS::SNS::Topic':
      case 'AWS::StepFunctions::StateMachine':
        return this.attribute(name, 'Arn');
      default:
        return this.physicalName(name);
    }
  }

  attribute(logicalId: string, attribute: string): string {
    const type = this.resource(logicalId).Type;
    const name = this.physicalName(logicalId);
    const arn = (service: string, resource: string, region = REGION, account = ACCOUNT) => `arn:${PARTITION}:${service}:${region}:${account}:${resource}`;
    const arns: Record<string, () => string> = {
      'AWS::DynamoDB::Table': () => arn('dynamodb', `table/${name}`),
      'AWS::Kinesis::Stream': () => arn('kinesis', `stream/${name}`),
      'AWS::S3::Bucket': () => `arn:${PARTITION}:s3:::${name}`,
      'AWS::SQS::Queue': () => arn('sqs', name),
      'AWS::SNS::Topic': () => arn('sns', name),
      'AWS::Lambda::Function': () => arn('lambda', `function:${name}`),
      'AWS::StepFunctions::StateMachine': () => arn('states', `stateMachine:${name}`),
      'AWS::Logs::LogGroup': () => arn('logs', `log-group:${name}:*`),
      'AWS::KMS::Key': () => arn('kms', `key/${name}`),
      'AWS::KinesisFirehose::DeliveryStream': () => arn('firehose', `deliverystream/${name}`),
      'AWS::Pipes::Pipe': () => arn('pipes', `pipe/${name}`),
      'AWS::IAM::Role': () => arn('iam', `role/${name}`, ''),
      'AWS::CloudWatch::Alarm': () => arn('cloudwatch', `alarm:${name}`),
    };
    if (type === 'AWS::DynamoDB::Table' && attribute === 'StreamArn') return `${arns[type]!()}/stream/${STREAM_LABEL}`;
    if (type === 'AWS::SQS::Queue' && attribute === 'QueueName') return name;
    if (type === 'AWS::SQS::Queue' && attribute === 'QueueUrl') return this.ref(logicalId);
    if (['Arn', 'TopicArn', 'StreamArn'].includes(attribute) && arns[type]) return arns[type]();
    throw new Error(`unsupported attribute ${logicalId}.${attribute} (${type})`);
  }

  /** The name a resource gets: the one the template sets, or one CloudFormation would generate. */
  physicalName(logicalId: string): string {
    const { Type, Properties = {} } = this.resource(logicalId);
    const nameProperty: Record<string, string> = {
      'AWS::DynamoDB::Table': 'TableName',
      'AWS::Kinesis::Stream': 'Name',
      'AWS::S3::Bucket': 'BucketName',
      'AWS::SQS::Queue': 'QueueName',
      'AWS::SNS::Topic': 'TopicName',
      'AWS::Lambda::Function': 'FunctionName',
      'AWS::StepFunctions::StateMachine': 'StateMachineName',
      'AWS::Logs::LogGroup': 'LogGroupName',
      'AWS::KinesisFirehose::DeliveryStream': 'DeliveryStreamName',
      'AWS::Pipes::Pipe': 'Name',
      'AWS::IAM::Role': 'RoleName',
      'AWS::CloudWatch::Alarm': 'AlarmName',
    };
    const property = nameProperty[Type];
    if (property && Properties[property] !== undefined) return String(this.resolve(Properties[property]));
    if (Type === 'AWS::KMS::Key') return `1234abcd-0000-0000-0000-${logicalId.slice(-12).toLowerCase().padStart(12, '0')}`;
    const generated = `${STACK_NAME}-${logicalId}-ABCDEF123456`;
    if (Type === 'AWS::Logs::LogGroup') return `/aws/generated/${generated}`;
    return Type === 'AWS::S3::Bucket' ? generated.toLowerCase() : generated;
  }

  /** Every identity policy attached to a role (its inline policies and the AWS::IAM::Policy resources naming it). */
  rolePolicies(roleLogicalId: string): { name: string; policy: PolicyDocument }[] {
    const role = this.resource(roleLogicalId);
    if (role.Properties?.ManagedPolicyArns?.length) throw new Error(`${roleLogicalId} has managed policies: the evaluation would miss them`);
    const inline = (role.Properties?.Policies ?? []).map((p: Json) => ({ name: p.PolicyName, policy: this.resolve(p.PolicyDocument) }));
    const attached = this.idsOfType('AWS::IAM::Policy')
      .filter((id) => (this.resource(id).Properties.Roles as Json[]).some((r) => r.Ref === roleLogicalId))
      .map((id) => ({ name: id, policy: this.resolve(this.resource(id).Properties.PolicyDocument) }));
    return [...inline, ...attached];
  }

  /** The logical id of a role given as `Fn::GetAtt [Role, Arn]`. */
  roleIdOf(roleArn: Json): string {
    const id = roleArn?.['Fn::GetAtt']?.[0];
    if (typeof id !== 'string') throw new Error(`expected a role of this stack, got ${JSON.stringify(roleArn)}`);
    return id;
  }

  /** The resource policy that governs requests on an ARN: the bucket, queue, topic or key policy of the template. */
  resourcePolicyFor(arn: string): PolicyDocument | undefined {
    const owners: [string, string, (properties: Json) => Json[]][] = [
      ['AWS::S3::BucketPolicy', 'PolicyDocument', (p) => [{ 'Fn::GetAtt': [p.Bucket.Ref, 'Arn'] }]],
      ['AWS::SQS::QueuePolicy', 'PolicyDocument', (p) => p.Queues.map((q: Json) => ({ 'Fn::GetAtt': [q.Ref, 'Arn'] }))],
      ['AWS::SNS::TopicPolicy', 'PolicyDocument', (p) => p.Topics],
    ];
    for (const [type, documentProperty, targets] of owners) {
      for (const id of this.idsOfType(type)) {
        const properties = this.resource(id).Properties;
        const governed = this.resolve(targets(properties)) as string[];
        if (governed.some((target) => arn === target || arn.startsWith(`${target}/`))) return this.resolve(properties[documentProperty]);
      }
    }
    for (const id of this.idsOfType('AWS::KMS::Key')) {
      if (this.attribute(id, 'Arn') === arn) return this.resolve(this.resource(id).Properties.KeyPolicy);
    }
    return undefined;
  }
}
