import type { Template } from 'aws-cdk-lib/assertions';
import { DYNAMODB_STREAM_RETENTION_SECONDS } from '../lambdas/cdc-enrichment/pipe-settings';
import { checkRecordAgesAgainstRetention, MINIMUM_TIME_TO_ACT_SECONDS } from './stream-consumer-settings';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALARM_KEY_STATEMENT_SID } from './constructs/operations-alarms';
import { PROJECT_ROOT } from './constructs/registry-functions';
import { defaultTemplateForTests, synthesizeForTests } from './testing';

/** What a real deploy, a destroy and a second deploy need from the template (issue 17). */
type Resources = Record<string, { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
const resourcesOf = (template: Template, type: string) => template.findResources(type) as Resources;

let template: Template;
beforeAll(() => {
  template = defaultTemplateForTests().template;
}, 180_000);

describe('record ages leave time to act before the source trims the record', () => {
  test('the Pipe gives up well inside the DynamoDB stream\'s 24 h', () => {
    const [pipe] = Object.values(resourcesOf(template, 'AWS::Pipes::Pipe'));
    const age = pipe!.Properties.SourceParameters.DynamoDBStreamParameters.MaximumRecordAgeInSeconds as number;
    expect(age + MINIMUM_TIME_TO_ACT_SECONDS).toBeLessThanOrEqual(DYNAMODB_STREAM_RETENTION_SECONDS);
  });

  test('every event source mapping gives up well inside the Kinesis stream\'s retention', () => {
    const [stream] = Object.values(resourcesOf(template, 'AWS::Kinesis::Stream'));
    const retentionSeconds = (stream!.Properties.RetentionPeriodHours as number) * 3600;
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.length).toBeGreaterThan(0);
    for (const mapping of mappings) {
      expect(mapping.Properties.MaximumRecordAgeInSeconds + MINIMUM_TIME_TO_ACT_SECONDS).toBeLessThanOrEqual(retentionSeconds);
    }
  });

  test('the shortest retention the configuration accepts (24 h) still synthesizes', () => {
    const short = synthesizeForTests({ kinesisRetentionHours: '24' }).template;
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', Object.keys(resourcesOf(short, 'AWS::Lambda::EventSourceMapping')).length);
  }, 180_000);

  test('an age equal to the retention is refused at synth (the trim would win the race)', () => {
    expect(() => checkRecordAgesAgainstRetention([{ name: 'consumer x', maximumRecordAgeInSeconds: 86_400, retentionSeconds: 86_400 }])).toThrow(/consumer x: MaximumRecordAgeInSeconds 86400 leaves less than 12 h/);
    expect(() => checkRecordAgesAgainstRetention([{ name: 'consumer y', maximumRecordAgeInSeconds: undefined, retentionSeconds: 86_400 }])).toThrow(/unset \(infinite\)/);
    expect(() => checkRecordAgesAgainstRetention([{ name: 'ok', maximumRecordAgeInSeconds: 43_200, retentionSeconds: 86_400 }])).not.toThrow();
  });
});

describe('alarm delivery', () => {
  test('the topic policy lets this account\'s alarms of this stage publish, and still refuses plain HTTP', () => {
    const [policy] = Object.values(resourcesOf(template, 'AWS::SNS::TopicPolicy'));
    const statements = policy!.Properties.PolicyDocument.Statement as any[];
    expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
    const allow = statements.find((s) => s.Effect === 'Allow');
    expect(allow).toMatchObject({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: 'sns:Publish', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } });
    expect(JSON.stringify(allow.Condition.ArnLike['aws:SourceArn'])).toContain(':alarm:dev-cart-*');
  });
});

describe('alarm delivery through the encrypted topic', () => {
  test('the key lets CloudWatch use it with no aws:SourceArn/aws:SourceAccount condition (AWS documents none reaching KMS through SNS)', () => {
    const [key] = Object.values(resourcesOf(template, 'AWS::KMS::Key'));
    const statements = key!.Properties.KeyPolicy.Statement as any[];
    const forAlarms = statements.filter((s) => s.Principal?.Service === 'cloudwatch.amazonaws.com');
    expect(forAlarms).toEqual([expect.objectContaining({ Sid: ALARM_KEY_STATEMENT_SID, Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] })]);
    expect(forAlarms[0].Condition).toBeUndefined();
  });
});

describe('destroy, then deploy again', () => {
  // CloudFormation user guide, "Import AWS resources into a CloudFormation stack automatically": a static custom name
  // (no Ref or function), DeletionPolicy Retain or RetainExceptOnCreate, the type's primary identifier in the template.
  test('cdk deploy --import-existing-resources can take the retained event store over: literal name, Retain, primary id in the template', () => {
    const retained = Object.entries(template.toJSON().Resources as Resources).filter(([, r]) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'RetainExceptOnCreate');
    const tables = retained.filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    // TableName is the primary identifier of AWS::DynamoDB::Table; a token (Fn::Join, Ref) would defeat the import.
    expect(table.Properties.TableName).toBe('dev-cart-events');
    expect(table.UpdateReplacePolicy).toBe('Retain');
  });

  test('docs/deploying.md documents the import that works, not `cdk import` (an import change set may only add the table)', () => {
    const guide = readFileSync(join(PROJECT_ROOT, 'docs/deploying.md'), 'utf8');
    const section = guide.slice(guide.indexOf('## Destroy and deploy again'), guide.indexOf('## What the stack creates'));
    expect(section).toContain('npx cdk deploy -c stage=prod --import-existing-resources');
    expect(section).not.toMatch(/^npx cdk import/m);
  });

  test('the table and the stream have different names', () => {
    const names = [
      ...Object.values(resourcesOf(template, 'AWS::DynamoDB::Table')).map((t) => t.Properties.TableName),
      ...Object.values(resourcesOf(template, 'AWS::Kinesis::Stream')).map((s) => s.Properties.Name),
    ];
    expect(new Set(names).size).toBe(names.length);
  });

  test('the only retained resource with a fixed name is the event store table, which a later deploy can adopt', () => {
    const retainedNamed = Object.entries(template.toJSON().Resources as Resources)
      .filter(([, r]) => r.DeletionPolicy === 'Retain')
      .filter(([, r]) => ['TableName', 'Name', 'LogGroupName', 'BucketName', 'QueueName', 'TopicName', 'StateMachineName'].some((key) => r.Properties?.[key] !== undefined && typeof r.Properties[key] === 'string'))
      .map(([, r]) => `${r.Type} ${r.Properties.TableName ?? r.Properties.Name ?? r.Properties.LogGroupName}`);
    expect(retainedNamed).toEqual(['AWS::DynamoDB::Table dev-cart-events']);
  });

  test('the on-demand stream and the alarm key do not outlive the stack (they would bill on)', () => {
    for (const type of ['AWS::Kinesis::Stream', 'AWS::KMS::Key']) {
      for (const resource of Object.values(resourcesOf(template, type))) expect({ type, policy: resource.DeletionPolicy }).toEqual({ type, policy: 'Delete' });
    }
  });

  test('state machine log groups live under /aws/vendedlogs/states/', () => {
    const machines = Object.values(resourcesOf(template, 'AWS::StepFunctions::StateMachine'));
    const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
    for (const machine of machines) {
      const groupId = machine.Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0] as string;
      expect(groups[groupId]!.Properties.LogGroupName).toBe(`/aws/vendedlogs/states/${machine.Properties.StateMachineName}`);
    }
  });

  test('adoptEventStoreStreamArn: the stack uses the retained table and its stream instead of creating it', () => {
    const streamArn = 'arn:aws:dynamodb:eu-west-1:123456789012:table/dev-cart-events/stream/2026-01-01T00:00:00.000';
    const adopted = synthesizeForTests({ adoptEventStoreStreamArn: streamArn }).template;
    const tables = Object.values(resourcesOf(adopted, 'AWS::DynamoDB::Table')).map((t) => t.Properties.TableName);
    expect(tables).not.toContain('dev-cart-events');
    const [pipe] = Object.values(resourcesOf(adopted, 'AWS::Pipes::Pipe'));
    expect(pipe!.Properties.Source).toBe(streamArn);
    expect(() => synthesizeForTests({ adoptEventStoreStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/other/stream/x' })).toThrow(/adoptEventStoreStreamArn/);
  }, 180_000);
});
