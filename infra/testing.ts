import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
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
