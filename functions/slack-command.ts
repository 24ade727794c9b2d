import { logger } from '#lib/observability/logger.ts';
import { slackCredentials } from '#lib/slack/credentials.ts';
import {
  createHandOff,
  createHomeHandOff,
  createRecheckHandOff,
  type StartWorker,
} from '#lib/slack/hand-off.ts';
import { createSlackApp } from '#lib/slack/slack-app.ts';
import { createAckPathClients, invokeAsync } from './wiring/aws.ts';
import { readSlackCommandConfig } from './wiring/config.ts';

// Wired once per container. No table and no Gong here: the ack path only verifies, parses and hands off.
const config = readSlackCommandConfig();
const { lambda, secrets } = createAckPathClients();
const startWorker: StartWorker = invokeAsync(lambda, config.workerFunction);

/** `POST /slack/commands` (the slash command and button clicks) and `POST /slack/events` (App Home). */
export const handler = createSlackApp({
  credentials: slackCredentials(config.slack.credentials, secrets),
  apiUrl: config.slack.apiUrl,
  onCommand: createHandOff({ startWorker, logger }),
  onRecheck: createRecheckHandOff({ startWorker, logger }),
  onHomeOpened: createHomeHandOff({ startWorker, logger }),
  logger,
});
