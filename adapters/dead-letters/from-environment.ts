import type { DeadLetterQueue } from '../../application/dead-letters';
import { JsonLinesDeadLetterStore } from './json-lines-dead-letter-store';
import { SqsDeadLetterQueue } from './sqs-dead-letter-queue';

/**
 * The dead-letter destination a handler is configured with: the SQS queue CDK names on AWS, or the local JSON
 * Lines file the local stack names. Variable names are passed in, so that this adapter does not reach up into
 * lambdas/. Neither set is a wiring error, reported at start rather than on the first bad record.
 */
export function deadLetterQueueFrom(env: NodeJS.ProcessEnv, names: { queueUrl: string; localFile: string }): DeadLetterQueue {
  const queueUrl = env[names.queueUrl];
  if (queueUrl) return new SqsDeadLetterQueue(queueUrl);
  const file = env[names.localFile];
  if (file) return new JsonLinesDeadLetterStore(file);
  throw new Error(`no dead-letter destination: set ${names.queueUrl} (AWS) or ${names.localFile} (local stack)`);
}
