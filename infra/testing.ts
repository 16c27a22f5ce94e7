import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CartStack } from './cart-stack';
import { loadDeploymentConfig } from './config';
import { PROJECT_ROOT } from './constructs/registry-functions';
import { stackNameOf } from './stack-outputs';

export interface SynthesizedStack {
  readonly stack: CartStack;
  readonly template: Template;
  readonly templateFile: string;
  /** Violations of every validation plugin (cdk-nag AwsSolutions, CloudFormation Validate) not acknowledged. */
  readonly violations: readonly { plugin: string; rule: string; description: string; paths: string[] }[];
}

/**
 * Synthesizes the stack the way `npm run synth` does (cdk.json context, cdk-nag), but without bundling the Lambdas
 * (10 s less per synth) and into a temporary directory, so parallel test runs never share a cdk.out.
 */
export function synthesizeForTests(extraContext: Record<string, unknown> = {}): SynthesizedStack {
  const synthesized = synthesize(extraContext);
  if (Object.keys(extraContext).length === 0) rememberDefaultTemplate(synthesized);
  return synthesized;
}

/** The template of the default configuration, without the construct tree (which only a fresh synth has). */
export type SynthesizedTemplate = Omit<SynthesizedStack, 'stack'>;

/**
 * The default configuration's template, synthesized once per `npm test`: the files that only read the template
 * (deploy safety, cfn-lint, IAM evidence) share the synth of whichever file came first, through the folder that
 * `npm test` names in TEST_SYNTH_CACHE_DIR (a fresh one per run, so the sources cannot change under it). Without
 * that variable (one file run alone) every call synthesizes.
 */
export function defaultTemplateForTests(): SynthesizedTemplate {
  const remembered = cacheFile();
  if (remembered && existsSync(remembered)) {
    const { templateFile, violations } = JSON.parse(readFileSync(remembered, 'utf8')) as Omit<SynthesizedTemplate, 'template'>;
    if (existsSync(templateFile)) return { template: Template.fromJSON(JSON.parse(readFileSync(templateFile, 'utf8'))), templateFile, violations };
  }
  return synthesizeForTests();
}

function cacheFile(): string | undefined {
  const dir = process.env.TEST_SYNTH_CACHE_DIR;
  return dir ? join(dir, 'default-template.json') : undefined;
}

function rememberDefaultTemplate({ templateFile, violations }: SynthesizedStack): void {
  const remembered = cacheFile();
  if (!remembered) return;
  // Written whole and then renamed: a file reading it at the same time sees the old entry or the new, never half.
  const partial = `${remembered}.${process.pid}`;
  writeFileSync(partial, JSON.stringify({ templateFile, violations }));
  renameSync(partial, remembered);
}

function synthesize(extraContext: Record<string, unknown>): SynthesizedStack {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const outdir = mkdtempSync(join(tmpdir(), 'cart-cdk-'));
  const app = new App({ outdir, context: { ...cdkJson.context, ...extraContext, 'aws:cdk:bundling-stacks': [] } });
  const config = loadDeploymentConfig((key) => app.node.tryGetContext(key));
  const stack = new CartStack(app, stackNameOf(config.stage), { config });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (error) {
    // Validation findings fail the synth; they are reported below from the report file, one by one.
    if (!existsSync(join(outdir, 'validation-report.json'))) throw error;
  }
  const reportFile = join(outdir, 'validation-report.json');
  const report: ValidationReport = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : { pluginReports: [] };
  const violations = report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((violation) => ({
      plugin: plugin.pluginName,
      rule: violation.ruleName,
      description: violation.description,
      paths: violation.violatingConstructs.map((c) => c.constructPath),
    })),
  );
  const templateFile = join(outdir, `${stack.artifactId}.template.json`);
  return { stack, template: Template.fromJSON(JSON.parse(readFileSync(templateFile, 'utf8'))), templateFile, violations };
}

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string; description: string; violatingConstructs: { constructPath: string }[] }[] }[];
}
