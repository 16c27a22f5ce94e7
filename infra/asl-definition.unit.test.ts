import { readFileSync } from 'node:fs';
import { join } from 'node:path';
// asl-validator ships CommonJS without types.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const aslValidator = require('asl-validator') as (definition: unknown) => { isValid: boolean; errors: unknown[] };
import { STATE_MACHINE_FILES } from './cart-stack';
import { aslRequirements, lambdaNameOfPlaceholder, serviceIntegration } from './asl-definition';
import { PARTITION_PLACEHOLDER } from '../statemachines/state-machines';
import { PROJECT_ROOT } from './constructs/registry-functions';
import { LAMBDAS } from '../lambdas/registry';

describe.each(Object.entries(STATE_MACHINE_FILES))('statemachines: %s', (_name, file) => {
  const text = readFileSync(join(PROJECT_ROOT, file), 'utf8');

  test('is valid ASL (asl-validator) once its placeholders are substituted as CDK does', () => {
    const substituted = text.replace(/\$\{([A-Za-z0-9]+)\}/g, (_all, name: string) =>
      name === PARTITION_PLACEHOLDER ? 'aws' : name.endsWith('FunctionArn') ? `arn:aws:lambda:us-east-1:123456789012:function:${name}` : 'example-bucket',
    );
    const result = aslValidator(JSON.parse(substituted));
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
  });

  test('names no partition literally (arn:aws: breaks in aws-cn and aws-us-gov): service integrations use ${Partition}', () => {
    expect(text).not.toMatch(/"arn:aws[a-z-]*:/);
  });

  test('every function placeholder names a Lambda of lambdas/registry.ts', () => {
    for (const placeholder of aslRequirements(text).placeholders) {
      const lambda = lambdaNameOfPlaceholder(placeholder);
      if (lambda) expect(Object.keys(LAMBDAS)).toContain(lambda);
    }
  });
});

describe('aslRequirements', () => {
  const definition = (map: object) =>
    JSON.stringify({ StartAt: 'M', States: { M: { Type: 'Map', End: true, ...map }, T: { Type: 'Task', Resource: '${StepFunctionArn}', TimeoutSeconds: 60, End: true } } });

  test('finds placeholders, distributed maps, listed buckets and result writer prefixes', () => {
    const requirements = aslRequirements(
      definition({
        ItemReader: { Resource: serviceIntegration('s3:listObjectsV2'), Parameters: { Bucket: '${ArchiveBucket}', 'Prefix.$': '$.p' } },
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'X', States: { X: { Type: 'Pass', End: true } } },
        ResultWriter: { Resource: serviceIntegration('s3:putObject'), Parameters: { Bucket: '${ArchiveBucket}', Prefix: 'results' } },
      }),
    );
    expect(requirements).toEqual({
      placeholders: ['ArchiveBucket', PARTITION_PLACEHOLDER, 'StepFunctionArn'],
      distributedMap: true,
      listedBuckets: ['ArchiveBucket'],
      resultWriters: [{ bucket: 'ArchiveBucket', prefix: 'results' }],
      taskTimeoutSeconds: { StepFunctionArn: 60 },
    });
  });

  test('an inline map needs no child executions', () => {
    const requirements = aslRequirements(definition({ ItemProcessor: { StartAt: 'X', States: { X: { Type: 'Pass', End: true } } } }));
    expect(requirements.distributedMap).toBe(false);
  });

  test('refuses what it cannot grant precisely: another ItemReader, a bucket that is not a placeholder, a ResultWriter without prefix', () => {
    expect(() => aslRequirements(definition({ ItemReader: { Resource: 'arn:aws:states:::s3:getObject', Parameters: { Bucket: '${B}' } } }))).toThrow(/unsupported ItemReader/);
    expect(() => aslRequirements(definition({ ItemReader: { Resource: serviceIntegration('s3:listObjectsV2'), Parameters: { Bucket: 'fixed' } } }))).toThrow(/Placeholder/);
    expect(() => aslRequirements(definition({ ResultWriter: { Resource: serviceIntegration('s3:putObject'), Parameters: { Bucket: '${B}' } } }))).toThrow(/fixed Prefix/);
  });

  test('placeholder ${ReplayObjectFunctionArn} names the Lambda replayObject', () => {
    expect(lambdaNameOfPlaceholder('ReplayObjectFunctionArn')).toBe('replayObject');
    expect(lambdaNameOfPlaceholder('ArchiveBucket')).toBeUndefined();
  });
});
