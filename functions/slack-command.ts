import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { requireEnv } from '#lib/config.ts';
import { logger } from '#lib/logger.ts';
import { readSlackConfig, slackCredentials } from '#lib/slack/credentials.ts';
import { createHandOff, invokeWorkerAsync } from '#lib/slack/hand-off.ts';
import { createSlackApp } from '#lib/slack/slack-app.ts';

// Wired once per container. No table and no Gong here: the ack path only verifies, parses and hands off.
const config = readSlackConfig(process.env);
// Slack gives up on the ack after 3 s: a slow AWS call must fail fast into the "try again" ack
// rather than silently miss it (the SDK's defaults are no timeout and 3 attempts).
const fast = { maxAttempts: 2, requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 } };
const startWorker = invokeWorkerAsync({
  lambda: new LambdaClient(fast),
  functionName: requireEnv(process.env, 'SLACK_WORKER_FUNCTION'),
});

/** `POST /slack/commands`: the `/gong-status` slash command and its link-button actions. */
export const handler = createSlackApp({
  credentials: slackCredentials(config, new SecretsManagerClient(fast)),
  apiUrl: config.apiUrl,
  onCommand: createHandOff({ startWorker, logger }),
  logger,
});
