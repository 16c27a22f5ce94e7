import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { dynamoDbClient, kinesisClient, s3Client } from '../../adapters/aws-clients';
import type { LocalConfig } from '../config';
import { isFresh, readHeartbeat } from '../process/heartbeat';

export interface ComponentHealth {
  readonly ready: boolean;
  readonly detail?: string;
}

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly components: Record<string, ComponentHealth>;
}

const PROBE_TIMEOUT_MS = 2_000;

/** Asks every local component whether it is ready: emulators by a real call, services by their heartbeat. */
export function createHealthCheck(config: LocalConfig, self: string, services: readonly string[]): () => Promise<HealthReport> {
  const dynamodb = dynamoDbClient();
  const kinesis = kinesisClient();
  const s3 = s3Client();
  const probes: Record<string, () => Promise<unknown>> = {
    dynamodb: () => dynamodb.send(new DescribeTableCommand({ TableName: config.resources.eventStoreTable })),
    kinesis: () => kinesis.send(new DescribeStreamSummaryCommand({ StreamName: config.resources.eventsStream })),
    s3: () => s3.send(new HeadBucketCommand({ Bucket: config.resources.archiveBucket })),
  };
  return async () => {
    const components: Record<string, ComponentHealth> = {};
    await Promise.all(
      Object.entries(probes).map(async ([name, probe]) => {
        components[name] = await withTimeout(probe())
          .then(() => ({ ready: true }))
          .catch((error: Error) => ({ ready: false, detail: error.message || error.name }));
      }),
    );
    for (const name of services) {
      if (name === self) {
        components[name] = { ready: true };
        continue;
      }
      const beat = readHeartbeat(config.dataDir, name);
      components[name] = isFresh(beat) ? { ready: true } : { ready: false, detail: beat ? 'heartbeat is stale' : 'not running' };
    }
    const ready = Object.values(components).every((component) => component.ready);
    return { status: ready ? 'ok' : 'unavailable', components };
  };
}

async function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
