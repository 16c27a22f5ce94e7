import { join } from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamTail } from '../../adapters/kinesis/stream-tail';
import { KINESIS_CONSUMERS, type ConsumerName } from '../../lambdas/consumers';
import type { HealthReport } from '../api/health';
import { readCanaryState, type CanaryState } from '../canary/canary-loop';
import { archiverStateDir } from '../archiver/component';
import type { LocalConfig } from '../config';
import { consumerPositionsFile } from '../kinesis-consumer/component';
import { ShardPositions } from '../kinesis-consumer/shard-positions';
import { pipePositionsFile } from '../pipe/component';
import { PositionStore } from '../pipe/positions';
import { listShards, streamArnOf } from '../pipe/stream-source';
import { readHeartbeat } from '../process/heartbeat';

/** Backlogs are counted by reading; past this many records a reader is shown as "at least" this far behind. */
const BACKLOG_CAP = 10_000;

export interface ReaderLag {
  /** `pipe` (reads the event store's stream), or a Kinesis reader: a consumer or the archiver. */
  readonly name: string;
  readonly source: 'dynamodb-stream' | 'kinesis';
  /** Records after the reader's persisted position, summed over its shards. */
  readonly recordsBehind: number;
  readonly capped: boolean;
  readonly shards: readonly { shardId: string; position?: string; finished?: boolean; recordsBehind: number }[];
  readonly error?: string;
}

export interface PipelineStatus {
  readonly health: HealthReport;
  readonly heartbeats: Record<string, { pid?: number; ageMs?: number }>;
  readonly lag: readonly ReaderLag[];
  readonly eventsPerSecond: number;
  /** The canary's setting and last run (local/canary), when its component has reported. */
  readonly canary?: CanaryState;
  readonly at: string;
}

interface Dependencies {
  readonly config: LocalConfig;
  readonly health: () => Promise<HealthReport>;
  readonly dynamodb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly tail: KinesisStreamTail;
  readonly eventsPerSecond: () => number;
}

/**
 * What the pipeline view shows: every component's health (the supervisor's heartbeats behind GET /health), and
 * how far the Pipe and each Kinesis reader are behind, from the positions they persist (the same files they
 * resume from after a restart) against what their stream holds now; and the canary's last run, hop by hop.
 */
export function createPipelineStatus(deps: Dependencies): () => Promise<PipelineStatus> {
  const { config } = deps;
  return async () => {
    const [health, lag] = await Promise.all([
      deps.health(),
      Promise.all([pipeLag(deps), ...kinesisReaders(config).map(({ name, file }) => kinesisLag(deps.tail, name, file))]),
    ]);
    const now = Date.now();
    const heartbeats = Object.fromEntries(
      Object.keys(health.components).map((name) => {
        const beat = readHeartbeat(config.dataDir, name);
        return [name, beat ? { pid: beat.pid, ageMs: now - beat.at } : {}];
      }),
    );
    const canary = readCanaryState(config.dataDir);
    return { health, heartbeats, lag, eventsPerSecond: deps.eventsPerSecond(), ...(canary ? { canary } : {}), at: new Date(now).toISOString() };
  };
}

function kinesisReaders(config: LocalConfig): { name: string; file: string }[] {
  return [
    ...(Object.keys(KINESIS_CONSUMERS) as ConsumerName[]).map((name) => ({ name: `consumer:${name}`, file: consumerPositionsFile(config, name) })),
    { name: 'archiver', file: join(archiverStateDir(config), 'positions.json') },
  ];
}

async function kinesisLag(tail: KinesisStreamTail, name: string, file: string): Promise<ReaderLag> {
  try {
    const positions = new ShardPositions(file);
    const shards = await Promise.all(
      (await tail.shards()).map(async (shard) => {
        const position = positions.get(shard.ShardId!);
        const backlog = position.finished ? { records: 0, capped: false } : await tail.backlog(shard.ShardId!, position.sequenceNumber, BACKLOG_CAP);
        return { shardId: shard.ShardId!, ...(position.sequenceNumber ? { position: position.sequenceNumber } : {}), ...(position.finished ? { finished: true } : {}), recordsBehind: backlog.records, capped: backlog.capped };
      }),
    );
    return summarise(name, 'kinesis', shards);
  } catch (error) {
    return { name, source: 'kinesis', recordsBehind: 0, capped: false, shards: [], error: (error as Error).message };
  }
}

async function pipeLag({ config, dynamodb, streams }: Dependencies): Promise<ReaderLag> {
  try {
    const streamArn = await streamArnOf(dynamodb, config.resources.eventStoreTable);
    const positions = new PositionStore(pipePositionsFile(config)).load(streamArn);
    const shards = await Promise.all(
      (await listShards(streams, streamArn)).map(async ({ shardId }) => {
        const position = positions.shards[shardId] ?? {};
        const backlog = position.finished ? { records: 0, capped: false } : await streamBacklog(streams, streamArn, shardId, position.sequenceNumber);
        return { shardId, ...(position.sequenceNumber ? { position: position.sequenceNumber } : {}), ...(position.finished ? { finished: true } : {}), recordsBehind: backlog.records, capped: backlog.capped };
      }),
    );
    return summarise('pipe', 'dynamodb-stream', shards);
  } catch (error) {
    return { name: 'pipe', source: 'dynamodb-stream', recordsBehind: 0, capped: false, shards: [], error: (error as Error).message };
  }
}

function summarise(name: string, source: ReaderLag['source'], shards: { shardId: string; recordsBehind: number; capped: boolean }[]): ReaderLag {
  return {
    name,
    source,
    recordsBehind: shards.reduce((sum, shard) => sum + shard.recordsBehind, 0),
    capped: shards.some((shard) => shard.capped),
    shards: shards.map(({ capped: _capped, ...shard }) => shard),
  };
}

/** Records of a DynamoDB stream shard after a sequence number (from its oldest when undefined), up to the cap. */
async function streamBacklog(streams: DynamoDBStreamsClient, streamArn: string, shardId: string, after: string | undefined): Promise<{ records: number; capped: boolean }> {
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ...(after ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after } : { ShardIteratorType: 'TRIM_HORIZON' }) }),
  );
  let iterator = ShardIterator;
  let records = 0;
  while (iterator && records < BACKLOG_CAP) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1_000 }));
    const count = page.Records?.length ?? 0;
    records += count;
    if (count === 0) break;
    iterator = page.NextShardIterator;
  }
  return { records, capped: records >= BACKLOG_CAP };
}
