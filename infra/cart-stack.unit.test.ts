import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aws, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ITEM_POPULARITY_RANKING } from '../adapters/dynamodb/projection-tables';
import { rejectsPrefixOf, REPLAY_REJECTS_EXPIRE_AFTER_DAYS, REPLAY_REJECTS_PREFIX } from '../application/replay-lines';
import { ARCHIVE_EVENTS_PREFIX } from '../application/replay-window';
import { REPLAY_RESULTS } from '../statemachines/state-machines';
import { cdcPipeSettings } from '../lambdas/cdc-enrichment/pipe-settings';
import { KINESIS_CONSUMERS } from '../lambdas/consumers';
import { ENV } from '../lambdas/environment';
import { HTTP_ROUTES } from '../lambdas/http-routes';
import { METRIC, metricsNamespaceFor } from '../lambdas/metric-names';
import { LAMBDAS } from '../lambdas/registry';
import { lambdaNameOfPlaceholder, readAslRequirements } from './asl-definition';
import { PARTITION_PLACEHOLDER } from '../statemachines/state-machines';
import type { CartStack } from './cart-stack';
import { STATE_MACHINE_FILES } from './cart-stack';
import { POINTER_USER_TIMEOUT_MS } from '../application/generations';
import { POINTER_SETTLE_MS } from '../application/rebuild';
import { PROJECT_ROOT, REGISTRY_METADATA_KEY } from './constructs/registry-functions';
import { LAMBDA_WIRING } from './lambda-wiring';
import { STACK_OUTPUTS } from './stack-outputs';
import { synthesizeForTests, type SynthesizedStack } from './testing';

/** One synth for the whole file (about 10 s without bundling): every test reads the same template. */
let synthesized: SynthesizedStack;
let stack: CartStack;
let template: Template;
const resolve = (value: unknown) => stack.resolve(value);
const resourcesOf = (type: string) => template.findResources(type) as Record<string, { Properties: Record<string, any>; DependsOn?: string[]; Metadata?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;
const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
const functionId = (name: string) => logicalId(stack.functions.get(name));
const policyDocumentsOfRole = (roleLogicalId: string) =>
  Object.values(resourcesOf('AWS::IAM::Policy'))
    .filter((policy) => (policy.Properties.Roles as unknown[]).some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleLogicalId })))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown; Effect: string }[]);
const actionsOf = (statement: { Action: string | string[] }) => [statement.Action].flat();
const statementsAllowing = (roleLogicalId: string, action: string) => policyDocumentsOfRole(roleLogicalId).filter((s) => actionsOf(s).includes(action));
const resourcesAllowed = (roleLogicalId: string, action: string) => statementsAllowing(roleLogicalId, action).flatMap((s) => [s.Resource].flat());
const roleOfFunction = (name: string) => logicalId(stack.functions.get(name).role as never);

beforeAll(() => {
  synthesized = synthesizeForTests();
  stack = synthesized.stack;
  template = synthesized.template;
}, 180_000);

describe('one source of truth for the wiring', () => {
  test('every deployed function is a lambdas/registry.ts entry, and every entry is deployed once', () => {
    const deployed = Object.values(resourcesOf('AWS::Lambda::Function')).map((fn) => fn.Metadata?.[REGISTRY_METADATA_KEY]);
    expect(deployed).not.toContain(undefined);
    const expected = Object.entries(LAMBDAS).map(([name, { entry, handler }]) => ({ name, entry, handler }));
    expect(deployed).toHaveLength(expected.length);
    expect(new Set(deployed.map((d) => JSON.stringify(d)))).toEqual(new Set(expected.map((e) => JSON.stringify(e))));
  });

  test.each(Object.entries(LAMBDAS))('%s: Node.js 22 on ARM64, traced, Powertools configured, its registry export as the handler', (name, definition) => {
    const fn = resourcesOf('AWS::Lambda::Function')[functionId(name)]!.Properties;
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: `index.${definition.handler}`,
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: expect.objectContaining({ POWERTOOLS_SERVICE_NAME: name, POWERTOOLS_METRICS_NAMESPACE: metricsNamespaceFor('dev') }) },
    });
    const source = readFileSync(join(PROJECT_ROOT, definition.entry), 'utf8');
    expect(source).toMatch(new RegExp(`export (async )?(function ${definition.handler}\\b|const ${definition.handler}\\b)`));
  });

  test('every registry entry has its grants and environment decided in infra/lambda-wiring.ts', () => {
    expect(Object.keys(LAMBDA_WIRING).sort()).toEqual(Object.keys(LAMBDAS).sort());
  });

  test('every environment variable a handler reads by ENV name is set on the functions that read it', () => {
    const variables = (name: string) => Object.keys(resourcesOf('AWS::Lambda::Function')[functionId(name)]!.Properties.Environment.Variables);
    expect(variables('cartApi')).toEqual(expect.arrayContaining([ENV.eventStoreTable, ENV.idempotencyTable]));
    expect(variables('cdcEnrichment')).toEqual(expect.arrayContaining([ENV.deadLetterQueueUrl, ENV.storeLayout]));
    expect(variables('projections')).toEqual(expect.arrayContaining([ENV.eventStoreTable, ENV.cartSummaryTable, ENV.itemPopularityTable]));
    expect(variables('readApi')).toEqual(expect.arrayContaining([ENV.cartSummaryTable, ENV.itemPopularityTable]));
    for (const step of ['replayPlan', 'replayGenerations', 'replayObject', 'replaySummary']) {
      expect(variables(step)).toEqual(expect.arrayContaining([ENV.archiveBucket, ENV.cartSummaryTable, ENV.itemPopularityTable, ENV.eventStoreTable, ENV.eventsStream]));
    }
    for (const step of ['backfillPlan', 'backfillSegment', 'backfillSummary']) {
      expect(variables(step)).toEqual(expect.arrayContaining([ENV.archiveBucket, ENV.eventStoreTable]));
    }
  });

  test('a rebuild\'s default retireAfterSeconds is derived from this template: longest consumer timeout or replay object step, plus the pointer cache', () => {
    const functions = resourcesOf('AWS::Lambda::Function');
    const consumerTimeouts = Object.values(KINESIS_CONSUMERS).map((c) => functions[functionId(c.lambda)]!.Properties.Timeout as number);
    const objectStep = readAslRequirements(join(PROJECT_ROOT, STATE_MACHINE_FILES.replay)).taskTimeoutSeconds.ReplayObjectFunctionArn!;
    expect(objectStep).toBe(900);
    const expected = Math.max(...consumerTimeouts, objectStep) + 1;
    expect(functions[functionId('replayPlan')]!.Properties.Environment.Variables[ENV.retireAfterSecondsDefault]).toBe(String(expected));
  });

  test('the HTTP API has exactly the routes of lambdas/http-routes.ts, each on its Lambda and behind IAM authorization', () => {
    const integrations = resourcesOf('AWS::ApiGatewayV2::Integration');
    const routes = Object.values(resourcesOf('AWS::ApiGatewayV2::Route')).map((route) => route.Properties);
    expect(routes.map((r) => r.RouteKey).sort()).toEqual(HTTP_ROUTES.map((r) => r.routeKey).sort());
    for (const { routeKey, lambda } of HTTP_ROUTES) {
      const route = routes.find((r) => r.RouteKey === routeKey)!;
      expect(route.AuthorizationType).toBe('AWS_IAM');
      const integrationId = (route.Target['Fn::Join'][1] as unknown[])[1] as { Ref: string };
      expect(integrations[integrationId.Ref]!.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: resolve(stack.functions.get(lambda).functionArn),
      });
    }
  });

  test('the metric names module names only deployed functions as emitters, and the dashboard shows every custom metric', () => {
    const body = JSON.stringify(resourcesOf('AWS::CloudWatch::Dashboard'));
    for (const metric of Object.values(METRIC)) {
      expect(Object.keys(LAMBDAS)).toContain(metric.emittedBy);
      expect(body).toMatch(new RegExp(`[^A-Za-z]${metric.name}[^A-Za-z]`));
    }
  });
});

describe('event store and tables', () => {
  test('event store: one item per event, on-demand, stream NEW_AND_OLD_IMAGES, PITR, deletion protection, encryption, retained', () => {
    const table = resourcesOf('AWS::DynamoDB::Table')[logicalId(stack.eventStore.table)]!;
    expect(table.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'aggregateId', KeyType: 'HASH' },
        { AttributeName: 'version', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: expect.arrayContaining([
        { AttributeName: 'aggregateId', AttributeType: 'S' },
        { AttributeName: 'version', AttributeType: 'N' },
      ]),
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true },
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });

  test('idempotency table: key id, TTL on expiration (Powertools idempotency)', () => {
    expect(resourcesOf('AWS::DynamoDB::Table')[logicalId(stack.eventStore.idempotencyTable)]!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  test('projection tables with the key schemas of the adapters', () => {
    expect(resourcesOf('AWS::DynamoDB::Table')[logicalId(stack.projections.get('cart-summary'))]!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'cartId', KeyType: 'HASH' }],
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    expect(resourcesOf('AWS::DynamoDB::Table')[logicalId(stack.projections.get('item-popularity'))]!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: ITEM_POPULARITY_RANKING.indexName,
          KeySchema: [
            { AttributeName: ITEM_POPULARITY_RANKING.partitionKey, KeyType: 'HASH' },
            { AttributeName: ITEM_POPULARITY_RANKING.sortKey, KeyType: 'RANGE' },
          ],
        },
      ],
    });
  });
});

describe('cart HTTP API', () => {
  test('$default stage (paths as documented) with throttling and JSON access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
    });
  });

  test('the cart API may append to the event store and use its idempotency table, nothing else in DynamoDB', () => {
    const role = roleOfFunction('cartApi');
    expect(resourcesAllowed(role, 'dynamodb:PutItem')).toEqual(
      expect.arrayContaining([resolve(stack.eventStore.table.tableArn), resolve(stack.eventStore.idempotencyTable.tableArn)]),
    );
    const dynamoResources = policyDocumentsOfRole(role)
      .filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
      .flatMap((s) => [s.Resource].flat());
    for (const resource of dynamoResources) {
      expect([resolve(stack.eventStore.table.tableArn), resolve(stack.eventStore.idempotencyTable.tableArn)]).toContainEqual(resource);
    }
  });
});

describe('blue/green rebuild grants', () => {
  // Generations live in the projection tables under a key prefix and the pointer is a cart-summary item: no table
  // is created at run time, so every grant names the two existing tables.
  test('the rebuild steps move the pointer, catch the new generation up, list and delete a generation', () => {
    const role = roleOfFunction('replayGenerations');
    const summary = resolve(stack.projections.get('cart-summary').tableArn);
    const popularity = resolve(stack.projections.get('item-popularity').tableArn);
    expect(resourcesAllowed(role, 'dynamodb:PutItem').sort()).toEqual([summary, popularity].sort());
    expect(resourcesAllowed(role, 'dynamodb:GetItem')).toEqual(expect.arrayContaining([summary, popularity, resolve(stack.eventStore.table.tableArn)]));
    expect(resourcesAllowed(role, 'dynamodb:Scan').sort()).toEqual([summary, popularity].sort());
    expect(resourcesAllowed(role, 'dynamodb:BatchWriteItem').sort()).toEqual([summary, popularity].sort());
    expect(resourcesAllowed(role, 'dynamodb:Query')).toEqual(expect.arrayContaining([resolve(stack.eventStore.table.tableArn)]));
  });

  test('the rebuild waits out every pointer user: their timeouts fit POINTER_USER_TIMEOUT_MS, the waiting steps fit the wait', () => {
    // A write begun with the pointer from before a change may land until its invocation times out (docs/simulation.md).
    for (const name of ['projections', 'readApi']) {
      expect(resourcesOf('AWS::Lambda::Function')[functionId(name)]!.Properties.Timeout * 1000).toBeLessThanOrEqual(POINTER_USER_TIMEOUT_MS);
    }
    const states = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'statemachines', 'replay.asl.json'), 'utf8')) as { States: Record<string, { TimeoutSeconds?: number }> }).States;
    for (const name of ['PrepareGeneration', 'RetireGeneration', 'AbandonFailedRebuild', 'AbandonRebuildAfterError']) {
      expect(states[name]!.TimeoutSeconds! * 1000).toBeGreaterThan(2 * POINTER_SETTLE_MS);
    }
    // A prepare may retire a left-over previous generation (one settle), wait its own settle, catch the written
    // generations up with a replaced one and wait again before deleting it; an abandon waits twice around its catch-up.
    for (const name of ['PrepareGeneration', 'AbandonFailedRebuild', 'AbandonRebuildAfterError']) {
      expect(states[name]!.TimeoutSeconds! * 1000).toBeGreaterThan(5 * POINTER_SETTLE_MS);
    }
  });

  test('the read API reads the pointer and every generation with GetItem and writes nothing', () => {
    const role = roleOfFunction('readApi');
    expect(resourcesAllowed(role, 'dynamodb:GetItem')).toEqual(expect.arrayContaining([resolve(stack.projections.get('cart-summary').tableArn)]));
    for (const action of ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:Scan']) expect(resourcesAllowed(role, action)).toEqual([]);
  });
});

describe('event log consumer', () => {
  test('the event log reads and conditionally writes its positions, reads the event store for catch-ups, nothing else in DynamoDB', () => {
    const role = roleOfFunction('eventLog');
    const positions = resolve(stack.projections.get('consumer-positions').tableArn);
    expect(resourcesAllowed(role, 'dynamodb:PutItem')).toEqual([positions]);
    expect(resourcesAllowed(role, 'dynamodb:GetItem')).toEqual(expect.arrayContaining([positions, resolve(stack.eventStore.table.tableArn)]));
    expect(resourcesAllowed(role, 'dynamodb:Query')).toEqual([resolve(stack.eventStore.table.tableArn)]);
    const fn = resourcesOf('AWS::Lambda::Function')[functionId('eventLog')]!.Properties;
    expect(fn.Environment.Variables).toMatchObject({
      CONSUMER_POSITIONS_TABLE: resolve(stack.projections.get('consumer-positions').tableName),
      EVENT_STORE_TABLE: resolve(stack.eventStore.table.tableName),
    });
  });
});

describe('CDC Pipe', () => {
  const settings = cdcPipeSettings('event-per-item');

  test('DynamoDB stream source with batching, bounded retries, record age, bisect, DLQ and filter criteria', () => {
    const [pipe] = Object.values(resourcesOf('AWS::Pipes::Pipe'));
    expect(pipe!.Properties).toMatchObject({
      Source: resolve(stack.eventStore.table.tableStreamArn),
      SourceParameters: {
        DynamoDBStreamParameters: {
          StartingPosition: settings.source.StartingPosition,
          BatchSize: settings.source.BatchSize,
          MaximumBatchingWindowInSeconds: settings.source.MaximumBatchingWindowInSeconds,
          MaximumRetryAttempts: settings.source.MaximumRetryAttempts,
          MaximumRecordAgeInSeconds: settings.source.MaximumRecordAgeInSeconds,
          OnPartialBatchItemFailure: 'AUTOMATIC_BISECT',
          DeadLetterConfig: { Arn: resolve(stack.pipe.deadLetterQueue.queueArn) },
        },
        FilterCriteria: { Filters: settings.filterPatterns.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) },
      },
      Enrichment: resolve(stack.functions.get('cdcEnrichment').functionArn),
      Target: resolve(stack.events.stream.streamArn),
      TargetParameters: { KinesisStreamParameters: { PartitionKey: '$.aggregateId' } },
      RoleArn: resolve(stack.pipe.role.roleArn),
    });
  });

  test('the Pipe depends on its role and the role\'s default policy (Pipes checks permissions at creation)', () => {
    const [pipe] = Object.values(resourcesOf('AWS::Pipes::Pipe'));
    const roleId = logicalId(stack.pipe.role);
    const policyId = stack.getLogicalId(stack.pipe.role.node.findChild('DefaultPolicy').node.defaultChild as never);
    expect(pipe!.DependsOn).toEqual(expect.arrayContaining([roleId, policyId]));
  });

  test('the Pipe role reads the stream, invokes the enrichment, writes Kinesis and the DLQ, and nothing more', () => {
    const role = logicalId(stack.pipe.role);
    expect(resourcesAllowed(role, 'dynamodb:GetRecords')).toEqual([resolve(stack.eventStore.table.tableStreamArn)]);
    expect(resourcesAllowed(role, 'lambda:InvokeFunction')).toEqual([resolve(stack.functions.get('cdcEnrichment').functionArn)]);
    expect(resourcesAllowed(role, 'kinesis:PutRecords')).toEqual([resolve(stack.events.stream.streamArn)]);
    expect(resourcesAllowed(role, 'sqs:SendMessage')).toEqual([resolve(stack.pipe.deadLetterQueue.queueArn)]);
    const everything = policyDocumentsOfRole(role).flatMap(actionsOf).sort();
    expect(everything).toEqual(
      [
        'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams', 'kinesis:PutRecord', 'kinesis:PutRecords',
        'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage',
      ].sort(),
    );
  });

  test('the enrichment Lambda sends malformed records to the same encrypted DLQ', () => {
    const fn = resourcesOf('AWS::Lambda::Function')[functionId('cdcEnrichment')]!.Properties;
    expect(fn.Environment.Variables[ENV.deadLetterQueueUrl]).toEqual(resolve(stack.pipe.deadLetterQueue.queueUrl));
    expect(resourcesAllowed(roleOfFunction('cdcEnrichment'), 'sqs:SendMessage')).toEqual([resolve(stack.pipe.deadLetterQueue.queueArn)]);
  });
});

describe('Kinesis and its consumers', () => {
  test('the events stream is encrypted and on demand by default', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      RetentionPeriodHours: 168,
    });
  });

  test.each(Object.entries(KINESIS_CONSUMERS))('%s: event source mapping with the settings of lambdas/consumers.ts', (name, consumer) => {
    const mappings = Object.values(resourcesOf('AWS::Lambda::EventSourceMapping')).filter(
      (m) => JSON.stringify(m.Properties.FunctionName) === JSON.stringify(resolve(stack.functions.get(consumer.lambda).functionName)),
    );
    expect(mappings).toHaveLength(1);
    expect(mappings[0]!.Properties).toMatchObject({
      EventSourceArn: resolve(stack.events.stream.streamArn),
      StartingPosition: consumer.startingPosition,
      BatchSize: consumer.batchSize,
      MaximumBatchingWindowInSeconds: consumer.maximumBatchingWindowInSeconds,
      MaximumRetryAttempts: consumer.maximumRetryAttempts,
      MaximumRecordAgeInSeconds: consumer.maximumRecordAgeInSeconds,
      BisectBatchOnFunctionError: consumer.bisectBatchOnFunctionError,
      ParallelizationFactor: consumer.parallelizationFactor,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: resolve(stack.consumers.failureQueues.get(name)!.queueArn) } },
    });
  });

  test('every SQS queue (DLQs, on-failure destinations) is encrypted and refuses plain HTTP', () => {
    const queues = resourcesOf('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(1 + Object.keys(KINESIS_CONSUMERS).length);
    for (const queue of Object.values(queues)) expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const policies = Object.values(resourcesOf('AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(Object.keys(queues).length);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('archive', () => {
  test('Firehose reads the stream and writes JSON Lines under events/YYYY/MM/DD/HH/', () => {
    const [firehose] = Object.values(resourcesOf('AWS::KinesisFirehose::DeliveryStream'));
    expect(firehose!.Properties).toMatchObject({
      DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: { KinesisStreamARN: resolve(stack.events.stream.streamArn) },
      ExtendedS3DestinationConfiguration: {
        BucketARN: resolve(stack.archive.bucket.bucketArn),
        Prefix: `${ARCHIVE_EVENTS_PREFIX}!{timestamp:yyyy/MM/dd/HH}/`,
        ErrorOutputPrefix: expect.stringMatching(/^errors\//),
        FileExtension: '.jsonl',
        CompressionFormat: 'UNCOMPRESSED',
        ProcessingConfiguration: { Enabled: true, Processors: [expect.objectContaining({ Type: 'AppendDelimiterToRecord' })] },
      },
    });
    // Firehose checks its role at creation, like Pipes.
    const roleId = stack.getLogicalId(stack.archive.node.findChild('FirehoseRole').node.defaultChild as never);
    expect(firehose!.DependsOn).toEqual(expect.arrayContaining([roleId]));
  });

  test('the Firehose role has no wildcard actions and writes only under events/ and errors/', () => {
    const roleId = stack.getLogicalId(stack.archive.node.findChild('FirehoseRole').node.defaultChild as never);
    const statements = policyDocumentsOfRole(roleId);
    for (const action of statements.flatMap(actionsOf)) expect(action).not.toContain('*');
    const written = JSON.stringify(resourcesAllowed(roleId, 's3:PutObject'));
    expect(written).toContain('"/events/*"');
    expect(written).toContain('"/errors/*"');
    expect(written.match(/"\/[a-z-]*\/\*"/g)).toHaveLength(2);
  });

  test('archive bucket: encrypted, TLS only, no public access, versioned, lifecycle to cheaper classes, access logs', () => {
    const bucket = resourcesOf('AWS::S3::Bucket')[logicalId(stack.archive.bucket)]!;
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: resolve(stack.archive.accessLogsBucket.bucketName) },
      LifecycleConfiguration: {
        Rules: expect.arrayContaining([
          expect.objectContaining({
            Prefix: ARCHIVE_EVENTS_PREFIX,
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
              { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
            ],
          }),
        ]),
      },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    for (const bucketId of [logicalId(stack.archive.bucket), logicalId(stack.archive.accessLogsBucket)]) {
      const policy = Object.values(resourcesOf('AWS::S3::BucketPolicy')).find((p) => p.Properties.Bucket.Ref === bucketId)!;
      expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('replay results and rejects in the archive bucket', () => {
  test('the Map Run results under replay-results/ expire (lifecycle rule), at the prefix the replay ASL writes them to', () => {
    const bucket = resourcesOf('AWS::S3::Bucket')[logicalId(stack.archive.bucket)]!;
    expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Id: 'expire-replay-results', Prefix: `${REPLAY_RESULTS.prefix}/`, ExpirationInDays: REPLAY_RESULTS.expireAfterDays, Status: 'Enabled' }),
    );
    const asl = JSON.parse(readFileSync(join(PROJECT_ROOT, STATE_MACHINE_FILES.replay), 'utf8'));
    expect(asl.States.ReplayObjects.ResultWriter.Parameters.Prefix).toBe(REPLAY_RESULTS.prefix);
    // Nothing else expires: the events themselves are kept for good.
    const expiring = bucket.Properties.LifecycleConfiguration.Rules.filter((rule: { ExpirationInDays?: number }) => rule.ExpirationInDays !== undefined);
    expect(expiring.map((rule: { Prefix: string }) => rule.Prefix)).toEqual([`${REPLAY_RESULTS.prefix}/`, REPLAY_REJECTS_PREFIX]);
  });

  test('the lines a replay set aside under replay-rejects/ expire after a month, at the prefix the replay writes them to', () => {
    const bucket = resourcesOf('AWS::S3::Bucket')[logicalId(stack.archive.bucket)]!;
    expect(bucket.Properties.LifecycleConfiguration.Rules).toContainEqual(
      expect.objectContaining({ Id: 'expire-replay-rejects', Prefix: REPLAY_REJECTS_PREFIX, ExpirationInDays: REPLAY_REJECTS_EXPIRE_AFTER_DAYS, Status: 'Enabled' }),
    );
    expect(rejectsPrefixOf('replay-1').startsWith(REPLAY_REJECTS_PREFIX)).toBe(true);
  });

  test('the replay object step may list the archive prefix, so a vanished object answers NoSuchKey (ArchiveObjectMissing), not 403', () => {
    const listing = statementsAllowing(roleOfFunction('replayObject'), 's3:ListBucket') as { Resource: unknown; Condition?: unknown }[];
    expect(listing).toHaveLength(1);
    expect(listing[0]!.Resource).toEqual(resolve(stack.archive.bucket.bucketArn));
    expect(listing[0]!.Condition).toEqual({ StringLike: { 's3:prefix': `${ARCHIVE_EVENTS_PREFIX}*` } });
  });

  test('the replay object step may write its set-aside bad lines, and only under replay-rejects/', () => {
    const written = resourcesAllowed(roleOfFunction('replayObject'), 's3:PutObject');
    expect(JSON.stringify(written)).toContain(`/${REPLAY_REJECTS_PREFIX}*`);
    expect(written).toHaveLength(1);
  });
});

describe('replay and backfill state machines', () => {
  test.each(Object.entries(STATE_MACHINE_FILES))('%s: from its ASL file, every placeholder substituted, logged and traced', (name, file) => {
    const machine = stack.stateMachines.get(name)!;
    const properties = resourcesOf('AWS::StepFunctions::StateMachine')[logicalId(machine.stateMachine)]!.Properties;
    expect(properties).toMatchObject({
      StateMachineName: `dev-${name}`,
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
    });
    const requirements = readAslRequirements(join(PROJECT_ROOT, file));
    expect(Object.keys(properties.DefinitionSubstitutions).sort()).toEqual([...requirements.placeholders].sort());
    for (const placeholder of requirements.placeholders) {
      const lambda = lambdaNameOfPlaceholder(placeholder);
      const expected = placeholder === PARTITION_PLACEHOLDER ? Aws.PARTITION : lambda ? stack.functions.get(lambda).functionArn : stack.archive.bucket.bucketName;
      expect(properties.DefinitionSubstitutions[placeholder]).toEqual(resolve(expected));
    }
  });

  test.each(Object.entries(STATE_MACHINE_FILES))('%s: its role invokes exactly the Lambdas its definition names and starts its own child executions', (name, file) => {
    const machine = stack.stateMachines.get(name)!;
    const roleId = logicalId(machine.stateMachine.role as never);
    const requirements = readAslRequirements(join(PROJECT_ROOT, file));
    const lambdas = requirements.placeholders.map(lambdaNameOfPlaceholder).filter((n): n is string => Boolean(n));
    expect(resourcesAllowed(roleId, 'lambda:InvokeFunction')).toEqual(lambdas.map((n) => resolve(stack.functions.get(n).functionArn)));
    expect(JSON.stringify(resourcesAllowed(roleId, 'states:StartExecution'))).toContain(`:stateMachine:dev-${name}`);
    if (requirements.listedBuckets.length > 0) expect(resourcesAllowed(roleId, 's3:ListBucket')).toEqual([resolve(stack.archive.bucket.bucketArn)]);
  });

  test.each(Object.entries(STATE_MACHINE_FILES))('%s: its role may redrive a failed Map Run and describe its own executions, as AWS\'s Distributed Map policy example grants', (name, file) => {
    if (!readAslRequirements(join(PROJECT_ROOT, file)).distributedMap) return;
    const roleId = logicalId(stack.stateMachines.get(name)!.stateMachine.role as never);
    const arnsOf = (action: string) => resourcesAllowed(roleId, action).map((r) => JSON.stringify(r));
    expect(arnsOf('states:RedriveExecution')).toEqual([expect.stringContaining(`:execution:dev-${name}/*:*`)]);
    expect(arnsOf('states:DescribeExecution')).toEqual(expect.arrayContaining([expect.stringContaining(`:execution:dev-${name}:*`), expect.stringContaining(`:execution:dev-${name}/*`)]));
  });
});

describe('operations', () => {
  const alarmNames = () => Object.values(resourcesOf('AWS::CloudWatch::Alarm')).map((a) => a.Properties.AlarmName as string);

  test('alarms on every failure mode of the flow, each notifying the encrypted topic when it fires and recovers', () => {
    const expected = [
      'pipe-execution-failures', 'pipe-throttled', 'enrichment-errors', 'dlq-cdc-pipe', 'kinesis-write-throttling', 'api-5xx', 'api-latency-p99',
      'archive-freshness', 'archive-source-lag', 'canary', ...Object.keys(STATE_MACHINE_FILES).map((n) => `${n}-failed`),
      ...Object.keys(KINESIS_CONSUMERS).flatMap((n) => [`dlq-consumer-${n}`, `iterator-age-${n}`]),
    ].map((n) => `dev-cart-${n}`);
    expect(alarmNames().sort()).toEqual(expected.sort());
    const topic = resolve(stack.alarms.topic.topicArn);
    for (const alarm of Object.values(resourcesOf('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([topic]);
      expect(alarm.Properties.OKActions).toEqual([topic]);
    }
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('any message in a dead-letter queue raises an alarm', () => {
    const queues = [stack.pipe.deadLetterQueue, ...stack.consumers.failureQueues.values()];
    for (const queue of queues) {
      const alarm = Object.values(resourcesOf('AWS::CloudWatch::Alarm')).find(
        (a) => JSON.stringify(a.Properties.Dimensions) === JSON.stringify([{ Name: 'QueueName', Value: resolve(queue.queueName) }]),
      );
      expect(alarm?.Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  test('the Pipe alarms watch the Pipe\'s own metrics', () => {
    const pipeAlarms = Object.values(resourcesOf('AWS::CloudWatch::Alarm')).filter((a) => JSON.stringify(a.Properties).includes('AWS/EventBridge/Pipes'));
    expect(pipeAlarms.map((a) => a.Properties.AlarmName).sort()).toEqual(['dev-cart-pipe-execution-failures', 'dev-cart-pipe-throttled']);
    expect(JSON.stringify(pipeAlarms)).toContain('"ExecutionFailed"');
    expect(JSON.stringify(pipeAlarms)).toContain('"ExecutionThrottled"');
  });

  test('Firehose falling behind the events stream raises an alarm on the lag AWS documents for a Kinesis source', () => {
    const alarm = Object.values(resourcesOf('AWS::CloudWatch::Alarm')).find((a) => a.Properties.AlarmName === 'dev-cart-archive-source-lag');
    expect(alarm?.Properties).toMatchObject({
      Namespace: 'AWS/Firehose',
      MetricName: 'KinesisMillisBehindLatest',
      Statistic: 'Maximum',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: resolve(stack.archive.deliveryStream.deliveryStreamName) }],
      Threshold: 900_000,
    });
    const runbook = readFileSync(join(PROJECT_ROOT, 'docs/operating-on-aws.md'), 'utf8');
    expect(runbook).toContain('| `archive-source-lag` |');
  });

  test('the dashboard shows the archive\'s reads from the stream (a Kinesis source emits no IncomingRecords)', () => {
    const body = JSON.stringify(Object.values(resourcesOf('AWS::CloudWatch::Dashboard'))[0]!.Properties.DashboardBody);
    // Same pattern both ways, so the negative check below is known to match the body's form.
    expect(body).toMatch(/AWS\/Firehose\\",\\"DataReadFromKinesisStream\.Records/);
    expect(body).toContain('KinesisMillisBehindLatest');
    expect(body).not.toMatch(/AWS\/Firehose\\",\\"IncomingRecords/);
  });

  test('one dashboard follows the flow end to end', () => {
    const dashboards = Object.values(resourcesOf('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody);
    const headings = ['1. Commands', '2. Event store', '3. CDC Pipe', '4. Kinesis', '5. Consumers', '6. Archive', '7. Replays', '8. Dead letters'];
    let last = -1;
    for (const heading of headings) {
      const at = body.indexOf(heading);
      expect(at).toBeGreaterThan(last);
      last = at;
    }
    for (const namespace of ['AWS/ApiGateway', 'AWS/DynamoDB', 'AWS/EventBridge/Pipes', 'AWS/Kinesis', 'AWS/Lambda', 'AWS/Firehose', 'AWS/States', 'AWS/SQS', metricsNamespaceFor('dev')]) {
      expect(body).toContain(namespace);
    }
  });
});

describe('security', () => {
  /** The only actions that may be granted on Resource "*", because AWS accepts nothing narrower for them. */
  const ACTIONS_AWS_ONLY_ALLOWS_ON_EVERYTHING = new Set([
    'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets',
    'dynamodb:ListStreams',
    'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries',
    'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups',
  ]);

  test('no IAM statement has a wildcard action, and Resource "*" only carries actions AWS allows on nothing narrower', () => {
    const statements = Object.values(resourcesOf('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    expect(statements.length).toBeGreaterThan(10);
    for (const statement of statements) {
      for (const action of actionsOf(statement)) expect(action).not.toMatch(/\*/);
      if ([statement.Resource].flat().includes('*')) {
        for (const action of actionsOf(statement)) expect(ACTIONS_AWS_ONLY_ALLOWS_ON_EVERYTHING).toContain(action);
      }
    }
    expect(Object.keys(resourcesOf('AWS::IAM::ManagedPolicy'))).toHaveLength(0);
    for (const role of Object.values(resourcesOf('AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('every route needs authorization: the API is never open', () => {
    for (const route of Object.values(resourcesOf('AWS::ApiGatewayV2::Route'))) expect(route.Properties.AuthorizationType).not.toBe('NONE');
  });

  test('cdk-nag AwsSolutions: no unacknowledged finding, and every acknowledgement gives its reason', () => {
    expect(synthesized.violations).toEqual([]);
    const acknowledgements = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').flatMap((m) => Object.entries(m.data as Record<string, string>)));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [, reason] of acknowledgements) expect(reason.length).toBeGreaterThanOrEqual(40);
  });

  test('cdk-nag is really checking: a bucket without TLS enforcement is reported (control)', () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'nag-control-')) });
    const control = new Stack(app, 'Control');
    new Bucket(control, 'Plain');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-S10/);
    const report = readFileSync(join(app.outdir, 'validation-report.json'), 'utf8');
    expect(report).toContain('AwsSolutions-S10');
    expect(existsSync(synthesized.templateFile)).toBe(true);
  });
});

describe('outputs that cdc-cart --aws reads', () => {
  it('declares every output in infra/stack-outputs.ts (the CLI resolves resources from no other)', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const key of Object.values(STACK_OUTPUTS)) expect(Object.keys(outputs)).toContain(key);
    // name=url of each dead-letter queue the dashboard and alarms know.
    expect(JSON.stringify(outputs[STACK_OUTPUTS.deadLetterQueueUrls]!.Value)).toContain('cdc-pipe');
  });
});
