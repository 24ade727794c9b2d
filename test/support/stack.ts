import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, type TranslateConfig } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { type LocalDynamo, startLocalDynamo } from '#local/dynamodb.ts';
import { type GongSandbox, type GongSandboxOptions, startGongSandbox } from '#local/gong-sandbox.ts';
import { type SecretsManagerStandIn, startSecretsManager } from '#local/secrets-manager.ts';
import { ensureTable, tableDefinition } from '#local/table.ts';

const require = createRequire(import.meta.url);

/** Which DynamoDB-compatible server the integration suite runs against (TEST_DYNAMO=dynamodb-local for AWS's own). */
export const DYNAMO_ENGINE = process.env.TEST_DYNAMO === 'dynamodb-local' ? 'dynamodb-local' : 'dynalite';

/**
 * The server of DYNAMO_ENGINE that the whole test run shares (test/support/global-setup.ts starts
 * it): a DynamoDB Local JVM takes seconds to start and warm up, so one per test file or per test
 * cost more than many tests. Each test file or test still gets tables of its own, deleted after it.
 * Read when a table starts, not at import: global setup sets it after this module may be loaded.
 */
const sharedEndpoint = (): string | undefined => process.env.TEST_DYNAMO_ENDPOINT;

export const GONG_SECRET_ID = 'gong-status/gong';

/** Loopback stand-ins for everything the product talks to, and the functions' environment (README "Configuration") pointing at them. */
export interface TestStack {
  dynamo: LocalDynamo;
  gong: GongSandbox;
  secrets: SecretsManagerStandIn;
  table: string;
  env: Record<string, string>;
  db: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

/** A DynamoDB server with one table from infra/table.yml, and a document client for it. */
export interface LocalTable {
  dynamo: LocalDynamo;
  table: string;
  db: DynamoDBDocumentClient;
  stop(): Promise<void>;
}

/**
 * Creates `table` as infra/table.yml defines it on the run's shared server (TEST_DYNAMO_ENDPOINT),
 * and `stop` deletes it; outside a test run (the bench), starts a server of its own for it.
 */
export async function startLocalTable(
  table: string,
  options: { lowPriority?: boolean; translateConfig?: TranslateConfig } = {},
): Promise<LocalTable> {
  const shared = sharedEndpoint();
  const dynamo: LocalDynamo = shared
    ? { endpoint: shared, pid: -1, stop: async () => undefined }
    : await startLocalDynamo({ engine: DYNAMO_ENGINE, lowPriority: options.lowPriority ?? false });
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  try {
    if (shared) await createFreshTable(client, table);
    else await ensureTable(client, table);
  } catch (error: unknown) {
    client.destroy();
    await dynamo.stop();
    throw error;
  }
  return {
    dynamo,
    table,
    db: DynamoDBDocumentClient.from(client, options.translateConfig),
    async stop() {
      try {
        if (shared) await client.send(new DeleteTableCommand({ TableName: table }));
      } finally {
        client.destroy();
        await dynamo.stop();
      }
    },
  };
}

/** Creates `table` on the shared server, failing if it exists: a table left by another file would mix their items. */
async function createFreshTable(client: DynamoDBClient, table: string): Promise<void> {
  await client.send(new CreateTableCommand(await tableDefinition(table)));
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 0.1, maxDelay: 1 }, { TableName: table });
}

let tableCounter = 0;

/** Starts a DynamoDB server (table from infra/table.yml), the Gong sandbox and a Secrets Manager stand-in. */
export async function startTestStack(
  options: { gong?: GongSandboxOptions; lowPriorityDynamo?: boolean } = {},
): Promise<TestStack> {
  const table = `gong-status-test-${process.pid}-${++tableCounter}`;
  const [local, gong] = await Promise.all([
    startLocalTable(table, { lowPriority: options.lowPriorityDynamo ?? false }),
    startGongSandbox(options.gong),
  ]);
  const { dynamo } = local;
  const secrets = await startSecretsManager({
    secrets: {
      [GONG_SECRET_ID]: JSON.stringify({
        accessKey: options.gong?.accessKey ?? 'sandbox-key',
        accessKeySecret: options.gong?.accessKeySecret ?? 'sandbox-secret',
        baseUrl: gong.url,
      }),
    },
  });
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    HISTORY_TABLE: table,
    GONG_SECRET_ID,
    GONG_MAX_RPS: '50',
  };
  return {
    dynamo,
    gong,
    secrets,
    table,
    env,
    db: local.db,
    async stop() {
      await Promise.all([gong.close(), secrets.close(), local.stop()]);
    },
  };
}

/**
 * Loads a built bundle (dist/<name>.js) fresh, with exactly `env` as the functions' environment:
 * the bundle wires itself at load time, as it does in a new Lambda container.
 */
export function loadHandler<E = unknown, R = unknown>(
  name: string,
  env: Record<string, string>,
): (event: E, context?: Partial<Context>) => Promise<R> {
  const path = resolve('dist', `${name}.js`);
  delete require.cache[path];
  for (const key of Object.keys(process.env)) {
    if (
      /^(GONG_|SLACK_|CRM_|HISTORY_|ALERT_|SWEEP_|NUDGE_|SALESFORCE_|AUTH_|PAGE_|AWS_ENDPOINT_URL)/.test(key)
    )
      delete process.env[key];
  }
  Object.assign(process.env, env);
  const { handler } = require(path) as { handler: (event: E, context: Context) => Promise<R> };
  return (event, context) => handler(event, lambdaContext(name, context));
}

/** A Lambda context with the fields our handlers use; the remaining time counts down from `timeoutMs`. */
export function lambdaContext(
  name: string,
  overrides: Partial<Context> & { timeoutMs?: number } = {},
): Context {
  const { timeoutMs = 30_000, ...rest } = overrides;
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `gong-status-test-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:gong-status-test-${name}`,
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/gong-status-test-${name}`,
    logStreamName: 'test',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    ...rest,
  };
}

/**
 * An API Gateway HTTP API (payload v2) event for the api function. `token` goes in the
 * Authorization header; `claims` are what API Gateway's JWT authorizer passes once it verified a
 * token (every value a string, as API Gateway renders them); without them the event is one of a
 * route without an authorizer.
 */
export function httpEvent(
  method: string,
  path: string,
  options: {
    body?: string;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    token?: string;
    claims?: Record<string, string>;
  } = {},
) {
  const rawQueryString = new URLSearchParams(options.query ?? {}).toString();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString,
    headers: {
      'content-type': 'application/json',
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...options.headers,
    },
    ...(options.query ? { queryStringParameters: options.query } : {}),
    requestContext: {
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: crypto.randomUUID(),
      routeKey: '$default',
      stage: '$default',
      timeEpoch: Date.now(),
      ...(options.claims
        ? {
            authorizer: {
              jwt: { claims: options.claims, scopes: options.claims.scope?.split(' ') ?? null },
            },
          }
        : {}),
    },
    ...(options.body === undefined ? {} : { body: options.body }),
    isBase64Encoded: false,
  };
}
