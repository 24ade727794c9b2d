import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

// Every AWS call has a timeout: a hung connection must fail, not use up the invocation
// (the SDK's defaults are no timeout and 3 attempts). Endpoints come from AWS_ENDPOINT_URL_*.
const TIMEOUTS = { requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } };
// Slack gives up on the ack after 3 s: a slow AWS call must fail fast into the "try again" ack
// rather than silently miss it.
const ACK_TIMEOUTS = { maxAttempts: 2, requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 } };

/** The AWS clients the core shares in one container. */
export interface AwsClients {
  dynamo: DynamoDBClient;
  db: DynamoDBDocumentClient;
  /** The pacer's own connections (see createAwsClients). */
  pacerDb: DynamoDBDocumentClient;
  secrets: SecretsManagerClient;
  /** Closes every client's sockets (the CLIs); a document client's own destroy() does nothing. */
  destroy(): void;
}

/** The core's clients, with timeouts. */
export function createAwsClients(): AwsClients {
  const dynamo = new DynamoDBClient(TIMEOUTS);
  // The pacer's claims are on the Gong calls' critical path: its own connections keep them
  // from queueing behind a bulk check's history writes.
  const pacerDynamo = new DynamoDBClient(TIMEOUTS);
  const secrets = new SecretsManagerClient(TIMEOUTS);
  return {
    dynamo,
    db: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    pacerDb: DynamoDBDocumentClient.from(pacerDynamo),
    secrets,
    destroy() {
      for (const client of [dynamo, pacerDynamo, secrets]) client.destroy();
    },
  };
}

/** A Lambda client for async invokes, with timeouts. */
export function createLambdaClient(): LambdaClient {
  return new LambdaClient(TIMEOUTS);
}

/** The slash command's clients: Secrets Manager and Lambda, with timeouts that fit inside Slack's 3 s ack. */
export function createAckPathClients(): { lambda: LambdaClient; secrets: SecretsManagerClient } {
  return { lambda: new LambdaClient(ACK_TIMEOUTS), secrets: new SecretsManagerClient(ACK_TIMEOUTS) };
}

/**
 * An asynchronous invoke of `functionName` (`InvocationType: 'Event'`): Lambda queues the payload
 * and answers 202 at once; anything else is a failed hand-off.
 */
export function invokeAsync<T>(lambda: LambdaClient, functionName: string): (payload: T) => Promise<void> {
  return async (payload) => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(payload)),
      }),
    );
    if (out.StatusCode !== 202) {
      throw new Error(`Lambda answered ${out.StatusCode} to the async invoke of ${functionName}`);
    }
  };
}
