import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { Context } from 'aws-lambda';
import { dynamoDbDocumentClient, kinesisClient, s3Client, sfnClient, sqsClient } from '../../adapters/aws-clients';
import { awsPipelineProbe, parseQueueUrls } from '../../adapters/pipeline-probe/aws-pipeline-probe';
import { signedCartApi } from '../../adapters/pipeline-probe/signed-http';
import { ENV, requireEnv } from '../environment';
import { logger, metrics, publishStoredMetrics } from '../observability';
import { runCanary } from './canary';

/** Time kept back from the function's timeout for the metrics and the log line after the last hop. */
const PUBLISH_MARGIN_MS = 20_000;
/** Like `cdc-cart verify --aws`: enough for Firehose's 60 s buffer and a dry-run Map Run. */
const AWS_CANARY_TIMEOUT_MS = 600_000;

const probe = awsPipelineProbe(
  {
    eventStoreTable: requireEnv(ENV.eventStoreTable),
    eventsStream: requireEnv(ENV.eventsStream),
    archiveBucket: requireEnv(ENV.archiveBucket),
    replayStateMachineArn: requireEnv(ENV.replayStateMachineArn),
    eventLogLogGroup: requireEnv(ENV.eventLogLogGroup),
    deadLetterQueueUrls: parseQueueUrls(requireEnv(ENV.deadLetterQueueUrls)),
  },
  signedCartApi(requireEnv(ENV.canaryApiUrl), awsRegion(), fromNodeProviderChain()),
  { documents: dynamoDbDocumentClient(), kinesis: kinesisClient(), s3: s3Client(), sfn: sfnClient(), sqs: sqsClient(), logs: new CloudWatchLogsClient({}) },
);

/** Lambda sets AWS_REGION in every function's environment: the API's region, for its signature. */
function awsRegion(): string {
  const region = process.env.AWS_REGION;
  if (!region) throw new Error('environment variable AWS_REGION is not set');
  return region;
}

/** The pipeline canary on AWS, invoked by its EventBridge Scheduler schedule (infra/constructs/pipeline-canary.ts). */
export async function handler(_event: unknown, context: Context): Promise<{ ok: boolean; failed: string[] }> {
  logger.addContext(context);
  try {
    // A run that outlived the function would publish nothing: the hops stop waiting in time for the metrics.
    const endBy = Date.now() + context.getRemainingTimeInMillis() - PUBLISH_MARGIN_MS;
    const report = await runCanary({ probe, timeoutMs: AWS_CANARY_TIMEOUT_MS, endBy, metrics, logger });
    return { ok: report.ok, failed: report.hops.filter((hop) => !hop.ok).map((hop) => hop.hop) };
  } finally {
    publishStoredMetrics();
  }
}
