import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { requireEnv } from '../lib/config.ts';
import { logger } from '../lib/logger.ts';
import { readSlackConfig, slackCredentials } from '../lib/slack/credentials.ts';
import { createHandOff, invokeWorkerAsync } from '../lib/slack/hand-off.ts';
import { createSlackApp } from '../lib/slack/slack-app.ts';

// Wired once per container. No table and no Gong here: the ack path only verifies, parses and hands off.
const config = readSlackConfig(process.env);
const startWorker = invokeWorkerAsync({
  lambda: new LambdaClient({}),
  functionName: requireEnv(process.env, 'SLACK_WORKER_FUNCTION'),
});

/** `POST /slack/commands`: the `/gong-status` slash command and its link-button actions. */
export const handler = createSlackApp({
  credentials: slackCredentials(config, new SecretsManagerClient({})),
  apiUrl: config.apiUrl,
  onCommand: createHandOff({ startWorker, logger }),
  logger,
});
