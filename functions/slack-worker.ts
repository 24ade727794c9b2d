import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { Context } from 'aws-lambda';
import { deadlineOf } from '#lib/invocation/deadline.ts';
import { slackCredentials } from '#lib/slack/credentials.ts';
import { createSlackApi, postToResponseUrl } from '#lib/slack/web-api.ts';
import { createSlackWorker, parseSlackJob } from '#lib/slack/worker.ts';
import { createIdempotencyStore } from '#lib/table/idempotency-store.ts';
import { readSlackWorkerConfig } from './wiring/config.ts';
import { wireCore } from './wiring/core.ts';
import { createDoorMetrics, withCheckMetrics, withDoorMetrics } from './wiring/metrics.ts';

const metrics = createDoorMetrics('slackWorker');
// Gong's own counts (GongCalls, GongRateLimited, GongBudgetUsed) come from the requester and pacer.
const core = wireCore(undefined, undefined, { metrics: metrics.record });
const workerConfig = readSlackWorkerConfig();
const slackConfig = workerConfig.slack;
const credentials = slackCredentials(slackConfig.credentials, core.clients.secrets);
const work = createSlackWorker({
  checkUsers: withCheckMetrics(core.checkUsers, metrics.record),
  store: core.store,
  slack: createSlackApi({
    baseUrl: slackConfig.apiUrl,
    botToken: async () => (await credentials()).botToken,
  }),
  respond: (url, message) => postToResponseUrl(url, message, { allowed: slackConfig.responseUrls }),
  logger: core.logger,
  adminUsers: workerConfig.adminUsers,
  ...(workerConfig.teamPageUrl === undefined ? {} : { teamPageUrl: workerConfig.teamPageUrl }),
});

// One answer per command or click (trigger_id) and one publish per event (event_id): a redelivered
// invocation with the same key returns the stored outcome.
const persistenceStore = createIdempotencyStore({
  client: core.clients.dynamo,
  table: core.config.table,
  name: 'slackWorker',
});

/** Async invoke from `slack`: runs a command's or a click's work and answers through its response_url, or publishes App Home. */
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
