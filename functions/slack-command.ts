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
  // Slack gives up on the ack after 3 s: a slow or retried invoke must fail fast into the "try again"
  // ack rather than silently miss it (the SDK's defaults are no timeout and 3 attempts).
  lambda: new LambdaClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 },
  }),
  functionName: requireEnv(process.env, 'SLACK_WORKER_FUNCTION'),
});

/** `POST /slack/commands`: the `/gong-status` slash command and its link-button actions. */
export const handler = createSlackApp({
  credentials: slackCredentials(config, new SecretsManagerClient({})),
  apiUrl: config.apiUrl,
  onCommand: createHandOff({ startWorker, logger }),
  logger,
});
