import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { deadlineOf } from '../lib/deadline.ts';
import { readSlackConfig, slackCredentials } from '../lib/slack/credentials.ts';
import { createSlackApi, postToResponseUrl } from '../lib/slack/web-api.ts';
import { createSlackWorker, parseSlackJob } from '../lib/slack/worker.ts';
import { wireCore } from './wiring.ts';

const core = wireCore();
const slackConfig = readSlackConfig(process.env);
const credentials = slackCredentials(slackConfig, core.clients.secrets);
const work = createSlackWorker({
  checkUsers: core.checkUsers,
  store: core.store,
  slack: createSlackApi({
    baseUrl: slackConfig.apiUrl,
    botToken: async () => (await credentials()).botToken,
  }),
  respond: (url, message) => postToResponseUrl(url, message),
  logger: core.logger,
});

// One answer per command: a redelivered invocation with the same trigger_id returns the stored outcome.
// A fixed partition (not the stage-specific function name) so infra/roles.yml can name it.
const persistenceStore = new DynamoDBPersistenceLayer({
  tableName: core.config.table,
  keyAttr: 'pk',
  sortKeyAttr: 'sk',
  staticPkValue: 'idempotency#slackWorker',
  expiryAttr: 'expiresAt',
  awsSdkV3Client: new DynamoDBClient({}),
});

/** Async invoke from `slack`: runs the command's work and answers through its response_url. */
export const handler = makeIdempotent(
  async (event: unknown, context: Context) => {
    core.logger.addContext(context);
    return work(parseSlackJob(event), { requestId: context.awsRequestId, deadline: deadlineOf(context) });
  },
  {
    persistenceStore,
    config: new IdempotencyConfig({ eventKeyJmesPath: 'triggerId', throwOnNoIdempotencyKey: true }),
  },
);
