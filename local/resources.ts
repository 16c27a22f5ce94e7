import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, ResourceInUseException as StreamInUse, type KinesisClient } from '@aws-sdk/client-kinesis';
import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { EVENT_STORE_KEY } from '../adapters/dynamodb/event-store-table';
import { CONSUMER_POSITIONS_KEY } from '../adapters/dynamodb/consumer-positions-table';
import { CART_SUMMARY_KEY, ITEM_POPULARITY_KEY, ITEM_POPULARITY_RANKING } from '../adapters/dynamodb/projection-tables';
import type { LocalConfig } from './config';

/** Local shard count: more than one, so that per-cart ordering across shards is exercised as on AWS. */
export const LOCAL_EVENTS_SHARDS = 2;

export function localTables(config: LocalConfig): CreateTableCommandInput[] {
  const { resources } = config;
  return [
    {
      TableName: resources.eventStoreTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: EVENT_STORE_KEY.partitionKey, AttributeType: 'S' },
        { AttributeName: EVENT_STORE_KEY.sortKey, AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: EVENT_STORE_KEY.partitionKey, KeyType: 'HASH' },
        { AttributeName: EVENT_STORE_KEY.sortKey, KeyType: 'RANGE' },
      ],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    },
    {
      TableName: resources.idempotencyTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    },
    {
      TableName: resources.consumerPositionsTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: CONSUMER_POSITIONS_KEY.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: CONSUMER_POSITIONS_KEY.partitionKey, KeyType: 'HASH' }],
    },
    {
      TableName: resources.cartSummaryTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: CART_SUMMARY_KEY.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: CART_SUMMARY_KEY.partitionKey, KeyType: 'HASH' }],
    },
    {
      TableName: resources.itemPopularityTable,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: ITEM_POPULARITY_KEY.partitionKey, AttributeType: 'S' },
        { AttributeName: ITEM_POPULARITY_RANKING.partitionKey, AttributeType: 'S' },
        { AttributeName: ITEM_POPULARITY_RANKING.sortKey, AttributeType: 'N' },
      ],
      KeySchema: [{ AttributeName: ITEM_POPULARITY_KEY.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: ITEM_POPULARITY_RANKING.indexName,
          KeySchema: [
            { AttributeName: ITEM_POPULARITY_RANKING.partitionKey, KeyType: 'HASH' },
            { AttributeName: ITEM_POPULARITY_RANKING.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    },
  ];
}

/** Tables whose items expire: attribute name by table. */
export function localTimeToLive(config: LocalConfig): Record<string, string> {
  return { [config.resources.idempotencyTable]: 'expiration' };
}

/** Creates what the local stack needs, leaving what exists alone: a restart keeps the data. */
export async function ensureLocalResources(
  config: LocalConfig,
  clients: { dynamodb: DynamoDBClient; kinesis: KinesisClient; s3: S3Client },
): Promise<void> {
  for (const table of localTables(config)) {
    try {
      await clients.dynamodb.send(new CreateTableCommand(table));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitFor(`table ${table.TableName}`, async () => {
      const { Table } = await clients.dynamodb.send(new DescribeTableCommand({ TableName: table.TableName }));
      return Table?.TableStatus === 'ACTIVE';
    });
  }
  for (const [TableName, AttributeName] of Object.entries(localTimeToLive(config))) {
    await clients.dynamodb
      .send(new UpdateTimeToLiveCommand({ TableName, TimeToLiveSpecification: { Enabled: true, AttributeName } }))
      .catch((error: Error) => {
        // Enabling TTL twice is refused with a ValidationException; that is the state we want.
        if (!/already enabled/i.test(error.message)) throw error;
      });
  }
  try {
    await clients.kinesis.send(new CreateStreamCommand({ StreamName: config.resources.eventsStream, ShardCount: LOCAL_EVENTS_SHARDS }));
  } catch (error) {
    if (!(error instanceof StreamInUse)) throw error;
  }
  await waitFor(`stream ${config.resources.eventsStream}`, async () => {
    const { StreamDescriptionSummary } = await clients.kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: config.resources.eventsStream }),
    );
    return StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
  });
  try {
    await clients.s3.send(new HeadBucketCommand({ Bucket: config.resources.archiveBucket }));
  } catch {
    await clients.s3.send(new CreateBucketCommand({ Bucket: config.resources.archiveBucket }));
  }
}

export async function waitFor(what: string, ready: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await ready()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
