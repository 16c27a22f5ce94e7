import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { metricsNamespaceFor } from '../../lambdas/metric-names';
import { LAMBDAS } from '../../lambdas/registry';
import { LAMBDA_BUNDLING } from '../lambda-bundling';

/** Repository root: entries in lambdas/registry.ts are relative to it. */
export const PROJECT_ROOT = join(__dirname, '..', '..');

/** Template metadata key on every deployed function: its lambdas/registry.ts name, entry file and export. */
export const REGISTRY_METADATA_KEY = 'cdc-cart:registry';

export type RegistryEntry = { readonly entry: string; readonly handler: string; readonly description: string };

/** Sizes that differ from the default (256 MB, 30 s), by registry name; a name missing from the registry is ignored. */
const SIZING: Record<string, { memoryMb?: number; timeoutSeconds?: number }> = {
  // Pipes waits up to 15 minutes for an enrichment, but a batch of <= 500 events is parsed in well under a second.
  cdcEnrichment: { memoryMb: 512, timeoutSeconds: 60 },
  // A replay/backfill worker reads or writes one archive object or one Scan segment page per invocation.
  replayObject: { memoryMb: 1024, timeoutSeconds: 900 },
  backfillSegment: { memoryMb: 1024, timeoutSeconds: 900 },
  replayGenerations: { timeoutSeconds: 900 },
  backfillPlan: { memoryMb: 1024, timeoutSeconds: 900 },
  // A canary run waits out Firehose's buffer and a dry-run replay: up to 600 s (lambdas/canary/handler.ts), then publishes.
  canary: { timeoutSeconds: 660 },
};

export interface RegistryFunctionsProps {
  readonly stage: string;
  readonly logRetention: RetentionDays;
}

/**
 * Every Lambda function in lambdas/registry.ts, and nothing else: Node.js 22 on ARM64, bundled by esbuild, X-Ray
 * tracing, Powertools configured, each with its own role and log group so that grants stay per function.
 */
export class RegistryFunctions extends Construct {
  readonly functions: ReadonlyMap<string, NodejsFunction>;

  constructor(scope: Construct, id: string, props: RegistryFunctionsProps) {
    super(scope, id);
    const functions = new Map<string, NodejsFunction>();
    for (const [name, definition] of Object.entries(LAMBDAS) as [string, RegistryEntry][]) {
      functions.set(name, this.createFunction(name, definition, props));
    }
    this.functions = functions;
  }

  /** The deployed function of a registry entry; a wiring that names a missing entry fails the synth loudly. */
  get(name: string): NodejsFunction {
    const fn = this.functions.get(name);
    if (!fn) throw new Error(`lambdas/registry.ts has no Lambda named "${name}" (known: ${[...this.functions.keys()].join(', ')})`);
    return fn;
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  private createFunction(name: string, definition: RegistryEntry, props: RegistryFunctionsProps): NodejsFunction {
    const scope = new Construct(this, name);
    const logGroup = new LogGroup(scope, 'Logs', { retention: props.logRetention });
    // An own role instead of AWSLambdaBasicExecutionRole, whose logs:* grant covers every log group in the account.
    const role = new Role(scope, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${definition.description} (${props.stage})`,
    });
    logGroup.grantWrite(role);
    const sizing = SIZING[name] ?? {};
    const fn = new NodejsFunction(scope, 'Function', {
      entry: join(PROJECT_ROOT, definition.entry),
      handler: definition.handler,
      description: definition.description,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: sizing.memoryMb ?? 256,
      timeout: Duration.seconds(sizing.timeoutSeconds ?? 30),
      tracing: Tracing.ACTIVE,
      role,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_METRICS_NAMESPACE: metricsNamespaceFor(props.stage),
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: LAMBDA_BUNDLING,
    });
    // Names the source in the template, so a test can prove that CDK deploys exactly the registry's handlers.
    (fn.node.defaultChild as CfnFunction).addMetadata(REGISTRY_METADATA_KEY, { name, entry: definition.entry, handler: definition.handler });
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Node.js 22 is the runtime this project targets and tests (issue 6); raise it together with the local toolchain.',
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (added by active tracing).',
    });
    return fn;
  }
}
