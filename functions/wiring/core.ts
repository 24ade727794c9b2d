import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createCheckUsers } from '#lib/check/check-users.ts';
import { readCoreConfig } from '#lib/config.ts';
import { secretGongCredentials, staticGongCredentials } from '#lib/gong/credentials.ts';
import { createCallPacer } from '#lib/gong/pacer.ts';
import { createGongRequester } from '#lib/gong/requester.ts';
import { createGongClient } from '#lib/gong/status-client.ts';
import { createHistoryStore } from '#lib/history/history-store.ts';
import { logger } from '#lib/logger.ts';

type Env = Record<string, string | undefined>;

/** AWS clients shared by everything in one container; endpoints come from AWS_ENDPOINT_URL_*. */
function createAwsClients() {
  // Every AWS call has a timeout: a hung connection must fail, not use up the invocation.
  const requestHandler = { connectionTimeout: 2_000, requestTimeout: 5_000 };
  const dynamo = new DynamoDBClient({ requestHandler });
  // The pacer's claims are on the Gong calls' critical path: its own connections keep them
  // from queueing behind a bulk check's history writes.
  const pacerDynamo = new DynamoDBClient({ requestHandler });
  const secrets = new SecretsManagerClient({ requestHandler });
  return {
    dynamo,
    db: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    pacerDb: DynamoDBDocumentClient.from(pacerDynamo),
    secrets,
    /** Closes every client's sockets (the CLIs); a document client's own destroy() does nothing. */
    destroy() {
      for (const client of [dynamo, pacerDynamo, secrets]) client.destroy();
    },
  };
}

/** The core every door shares, built once per container from DESIGN.md's environment. */
export function wireCore(env: Env = process.env, clients = createAwsClients()) {
  const config = readCoreConfig(env);
  const { db } = clients;
  const credentials =
    config.gong.kind === 'secret'
      ? secretGongCredentials({
          client: clients.secrets,
          secretId: config.gong.secretId,
          maxAgeSeconds: config.gong.maxAgeSeconds,
        })
      : staticGongCredentials({
          kind: 'basic',
          accessKey: config.gong.accessKey,
          accessKeySecret: config.gong.accessKeySecret,
          baseUrl: config.gong.baseUrl,
        });
  // One pacer per container for every Gong call, status checks and user listing alike.
  const pacer = createCallPacer({ db: clients.pacerDb, table: config.table, rps: config.maxRps });
  const request = createGongRequester({ credentials, pacer, logger, timeoutMs: config.gongTimeoutMs });
  const gong = createGongClient({ request, logger });
  const store = createHistoryStore({
    db,
    table: config.table,
    retentionDays: config.retentionDays,
    onWriteError: (error) => logger.error('DynamoDB write failed', { error: error as Error }),
  });
  return {
    config,
    clients,
    logger,
    store,
    checkUsers: createCheckUsers({ gong, store, logger }),
    gongRequest: request,
  };
}
