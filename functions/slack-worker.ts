import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { deadlineOf } from '#lib/deadline.ts';
import { slackCredentials } from '#lib/slack/credentials.ts';
import { createSlackApi, postToResponseUrl } from '#lib/slack/web-api.ts';
import { createSlackWorker, parseSlackJob } from '#lib/slack/worker.ts';
import { createIdempotencyStore } from '#lib/table/idempotency-store.ts';
import { readSlackConfig } from './wiring/config.ts';
import { wireCore } from './wiring/core.ts';
import { createDoorMetrics, withCheckMetrics, withDoorMetrics } from './wiring/metrics.ts';

const core = wireCore();
const metrics = createDoorMetrics('slackWorker');
const slackConfig = readSlackConfig();
const credentials = slackCredentials(slackConfig.credentials, core.clients.secrets);
const work = createSlackWorker({
  checkUsers: withCheckMetrics(core.checkUsers, metrics.record),
  store: core.store,
  slack: createSlackApi({
    baseUrl: slackConfig.apiUrl,
    botToken: async () => (await credentials()).botToken,
  }),
  respond: (url, message) => postToResponseUrl(url, message, { origins: slackConfig.responseOrigins }),
  logger: core.logger,
});

// One answer per command: a redelivered invocation with the same trigger_id returns the stored outcome.
const persistenceStore = createIdempotencyStore({
  client: core.clients.dynamo,
  table: core.config.table,
  name: 'slackWorker',
});

/** Async invoke from `slack`: runs the command's work and answers through its response_url. */
const runOnce = makeIdempotent(
  async (event: unknown, context: Context) => {
    core.logger.addContext(context);
    return work(parseSlackJob(event), { requestId: context.awsRequestId, deadline: deadlineOf(context) });
  },
  {
    persistenceStore,
    config: new IdempotencyConfig({ eventKeyJmesPath: 'triggerId', throwOnNoIdempotencyKey: true }),
  },
);

export const handler = withDoorMetrics(runOnce, metrics);
