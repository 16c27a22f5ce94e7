import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CartStack } from '../cart-stack';
import { loadDeploymentConfig } from '../config';
import { stackNameOf } from '../stack-outputs';

/**
 * `npx cdk synth` / `npx cdk deploy` entry point (cdk.json). Env-agnostic: the account and region come from the
 * CLI's credentials at deploy time, and nothing is looked up at synth time, so it synthesizes offline.
 */
const app = new App();
const config = loadDeploymentConfig((key) => app.node.tryGetContext(key));
new CartStack(app, stackNameOf(config.stage), {
  config,
  description: `Event-sourced cart with change data capture (${config.stage})`,
  tags: { project: 'cdc-cart', stage: config.stage },
});
// Every AwsSolutions finding must be fixed or acknowledged with a reason in the construct it concerns.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
