import { readFile } from 'node:fs/promises';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { parse } from 'yaml';

const TABLE_FILE = new URL('../infra/table.yml', import.meta.url);

/**
 * The CreateTable input from infra/table.yml, the table's only definition. What local servers
 * lack (TTL and point-in-time recovery are separate APIs there) is left out; the keys, indexes
 * and billing mode are taken as they are.
 */
export async function tableDefinition(tableName: string): Promise<CreateTableCommandInput> {
  const template = parse(await readFile(TABLE_FILE, 'utf8'), {
    // CloudFormation short tags (!Sub, !GetAtt…) are not used in the table; accept them as plain values.
    customTags: ['!Sub', '!GetAtt', '!Ref'].map((tag) => ({ tag, resolve: (value: string) => value })),
  }) as { Resources: { HistoryTable: { Properties: Record<string, unknown> } } };
  const {
    TableName: _name,
    PointInTimeRecoverySpecification: _pitr,
    TimeToLiveSpecification: _ttl,
    SSESpecification: _sse,
    ...properties
  } = template.Resources.HistoryTable.Properties;
  return { ...(properties as Omit<CreateTableCommandInput, 'TableName'>), TableName: tableName };
}

/** Creates the table from infra/table.yml unless it exists already, and waits until it takes writes. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(await tableDefinition(tableName)));
  } catch (error: unknown) {
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  }
  // A table is CREATING for a moment (dynalite too, on a busy machine): writes before ACTIVE fail.
  await waitUntilTableExists(
    { client, maxWaitTime: 60, minDelay: 0.1, maxDelay: 1 },
    { TableName: tableName },
  );
}
