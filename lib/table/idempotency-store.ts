import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * Powertools idempotency records in the product's one table (infra/table.yml):
 * pk `idempotency#<name>`, sk `<name>#<hash of the key>`, expiring through the table's TTL attribute.
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
    staticPkValue: `idempotency#${options.name}`,
  });
}
