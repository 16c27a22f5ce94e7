import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand, ResourceNotFoundException, type CreateTableCommandInput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalConfig } from '../../local/config';
import { localTables, waitFor } from '../../local/resources';

/**
 * A table of the entry's own, created fresh: entries never write to the stack's tables, whose stream the CDC
 * components consume (their work would land on the same 2 cores as the measurement).
 */
export async function freshTable(client: DynamoDBClient, input: CreateTableCommandInput): Promise<string> {
  const TableName = input.TableName!;
  await client.send(new DeleteTableCommand({ TableName })).catch((error: unknown) => {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  });
  await client.send(new CreateTableCommand(input));
  await waitFor(`table ${TableName}`, async () => (await client.send(new DescribeTableCommand({ TableName }))).Table?.TableStatus === 'ACTIVE');
  return TableName;
}

/** A table exactly like the event store's (keys, billing, stream), under another name. */
export function eventStoreTableLike(config: LocalConfig, TableName: string): CreateTableCommandInput {
  const template = localTables(config).find((table) => table.TableName === config.resources.eventStoreTable);
  if (!template) throw new Error('local/resources.ts no longer defines the event store table');
  return { ...template, TableName };
}

/** Drops an entry's tables when it is done, so that their data does not slow DynamoDB Local for the next entry. */
export async function dropTables(client: DynamoDBClient, names: readonly string[]): Promise<void> {
  for (const TableName of names) {
    await client.send(new DeleteTableCommand({ TableName })).catch((error: unknown) => {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    });
  }
}
