import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { kinesisClient, s3Client } from '../../adapters/aws-clients';
import { JsonLinesDeadLetterStore } from '../../adapters/dead-letters/json-lines-dead-letter-store';
import { localDeadLetterFile, type LocalConfig } from '../config';
import type { LocalComponent } from '../process/component';
import { listShards, ShardReader } from '../kinesis-consumer/shard-reader';
import { LocalArchiver, type ArchiverOptions } from './archiver';

/** Buffering of the local archiver: flush after 2 s (the issue allows at most 5) or 5 MiB, whichever first. */
export const LOCAL_ARCHIVE_BUFFERING = {
  flushIntervalMs: Number(process.env.ARCHIVE_FLUSH_INTERVAL_MS ?? 2_000),
  maxBufferBytes: 5 * 1024 * 1024,
} as const;

export function archiverStateDir(config: LocalConfig): string {
  return join(config.dataDir, 'archiver');
}

export function localArchiver(config: LocalConfig, logs: Pick<ArchiverOptions, 'log' | 'logActivity'> = {}): LocalArchiver {
  const kinesis = kinesisClient();
  const s3 = s3Client();
  const deadLetters = new JsonLinesDeadLetterStore(localDeadLetterFile(config));
  const stream = config.resources.eventsStream;
  return new LocalArchiver(
    {
      listShards: () => listShards(kinesis, stream),
      openShard: (shardId, after) => new ShardReader(kinesis, stream, shardId, after, 'TRIM_HORIZON'),
      putObject: async (key, body) => {
        await s3.send(new PutObjectCommand({ Bucket: config.resources.archiveBucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }));
      },
      deadLetter: (letters) => deadLetters.send(letters),
    },
    { stateDir: archiverStateDir(config), ...LOCAL_ARCHIVE_BUFFERING, ...logs },
  );
}

/** The local stand-in for the Firehose delivery stream from Kinesis to the archive bucket. */
export const archiverComponent: LocalComponent = {
  name: 'archiver',
  async start(config) {
    const archiver = localArchiver(config, { log: (line) => console.error(line), logActivity: (line) => console.log(line) });
    await archiver.start();
    return { stop: () => archiver.stop() };
  },
};
