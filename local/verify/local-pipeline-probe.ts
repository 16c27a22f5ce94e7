import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dynamoDbDocumentClient, kinesisClient, s3Client, sfnClient } from '../../adapters/aws-clients';
import { JsonLinesDeadLetterInbox } from '../../adapters/dead-letters/json-lines-dead-letter-inbox';
import { DynamoDbEventStore } from '../../adapters/dynamodb/event-store';
import { KinesisStreamTail } from '../../adapters/kinesis/stream-tail';
import { retryAfterOf, SdkPipelineProbe, type CartApiCall } from '../../adapters/pipeline-probe/sdk-pipeline-probe';
import { S3ArchiveObjects } from '../../adapters/s3/replay-archive';
import type { PipelineProbe } from '../../application/pipeline-verification';
import { endpointOf, localDeadLetterFile, type LocalConfig } from '../config';
import { PIPE_DEAD_LETTER_SOURCE } from '../pipe/local-pipe';
import { stateMachineArn } from '../stepfunctions/arns';

/** The local pipeline answers within a second or two: look again often. */
const LOCAL_POLL_INTERVAL_MS = 300;

/**
 * The probe against a running local stack (npm start, or a test's stack): the cart API over plain HTTP, the
 * emulators through the SDK clients (their endpoints from the process environment, see handlerEnvironment), the
 * event log from the consumers' log file, the dead letters from the local dead-letter file.
 */
export function localPipelineProbe(config: LocalConfig): PipelineProbe {
  const documents = dynamoDbDocumentClient();
  return new SdkPipelineProbe({
    where: 'local',
    pollIntervalMs: LOCAL_POLL_INTERVAL_MS,
    pipeDeadLetterQueue: PIPE_DEAD_LETTER_SOURCE,
    api: localCartApi(endpointOf(config.ports.api)),
    store: new DynamoDbEventStore(documents, config.resources.eventStoreTable),
    tail: new KinesisStreamTail(kinesisClient(), config.resources.eventsStream),
    streamStart: 'TRIM_HORIZON',
    archive: new S3ArchiveObjects(s3Client(), config.resources.archiveBucket),
    sfn: sfnClient(),
    replayStateMachineArn: stateMachineArn('replay'),
    eventLogLines: async (cartId) => localEventLogLines(config.dataDir).filter((line) => line.aggregateId === cartId),
    deadLetterCounts: async () => {
      const counts: Record<string, number> = {};
      for (const letter of await new JsonLinesDeadLetterInbox(localDeadLetterFile(config)).pending()) counts[letter.source] = (counts[letter.source] ?? 0) + 1;
      return counts;
    },
  });
}

export function localCartApi(baseUrl: string): CartApiCall {
  return async (method, path, body, headers) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined, ...retryAfterOf(response.headers) };
  };
}

/** Every line the event log wrote ("cart event"), in the order written, from the consumers' output file. */
export function localEventLogLines(dataDir: string): { eventId: string; aggregateId: string; version: number }[] {
  // The log may have rotated (local/process/rotating-log.ts): its previous part comes first.
  const file = join(dataDir, 'logs', 'consumers.log');
  let text = '';
  for (const part of [`${file}.1`, file]) {
    try {
      text += readFileSync(part, 'utf8');
    } catch {
      // not there (yet)
    }
  }
  const lines: { eventId: string; aggregateId: string; version: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.includes('"cart event"')) continue;
    try {
      const json = JSON.parse(line) as { message?: string; eventId: string; aggregateId: string; version: number };
      if (json.message === 'cart event') lines.push({ eventId: json.eventId, aggregateId: json.aggregateId, version: json.version });
    } catch {
      // a line of another kind that happens to contain the words
    }
  }
  return lines;
}
