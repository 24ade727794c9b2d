import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { idempotencyPartition } from '#lib/table/keys.ts';

/**
 * Powertools idempotency records in the product's one table, laid out as lib/table/keys.ts says,
 * expiring through the table's TTL attribute.
 * The partition is fixed by name rather than by the Lambda's name, so records survive a rename or a
 * stage prefix, and infra/roles.yml can name it. Powertools marshals its own items: it takes the plain client.
 */
export function createIdempotencyStore(options: {
  client: DynamoDBClient;
  table: string;
  name: string;
}): DynamoDBPersistenceLayer {
  return new DynamoDBPersistenceLayer({
    tableName: options.table,
    awsSdkV3Client: options.client,
    keyAttr: 'pk',
    sortKeyAttr: 'sk',
    expiryAttr: 'expiresAt',
    staticPkValue: idempotencyPartition(options.name),
  });
}
