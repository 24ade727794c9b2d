import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { cachedSecret, parseJsonSecret, type SecretRef } from '#lib/secrets/json-secret.ts';

/** What the Slack app needs: the signing secret (verifying requests) and the bot token (Web API). */
export interface SlackCredentials {
  signingSecret: string;
  botToken: string;
}

/** Gives the current credentials, cached per container. */
export type SlackCredentialSource = () => Promise<SlackCredentials>;

/** Where the Slack credentials come from: a Secrets Manager secret, or the pair given directly (local use). */
export type SlackCredentialSetting = SecretRef | { kind: 'env'; signingSecret: string; botToken: string };

/** Where a bot token alone comes from (the sweep posts, it never verifies): the Slack secret, or the token itself. */
export type SlackBotTokenSetting = SecretRef | { kind: 'env'; botToken: string };

const secretSchema = z.object({
  signingSecret: z.string().check(z.minLength(1)),
  botToken: z.string().check(z.minLength(1)),
});

/** Parses the secret's JSON; errors name the secret and the fields present, never a value. */
export function parseSlackSecret(secretId: string, raw: unknown): SlackCredentials {
  return parseJsonSecret(secretId, raw, {
    schema: secretSchema,
    mustHold: '{"signingSecret","botToken"} as non-empty strings',
  });
}

/** The credential source a setting names: Secrets Manager through Powertools' TTL cache, or the fixed pair. */
export function slackCredentials(
  setting: SlackCredentialSetting,
  client: SecretsManagerClient,
): SlackCredentialSource {
  if (setting.kind === 'env') {
    const fixed = { signingSecret: setting.signingSecret, botToken: setting.botToken };
    return async () => fixed;
  }
  return cachedSecret({
    client,
    secretId: setting.secretId,
    maxAgeSeconds: setting.maxAgeSeconds,
    parse: (raw) => parseSlackSecret(setting.secretId, raw),
  });
}

/** The bot token a setting names, from the same cached secret as the Slack app's. */
export function slackBotToken(
  setting: SlackBotTokenSetting,
  client: SecretsManagerClient,
): () => Promise<string> {
  if (setting.kind === 'env') {
    const token = setting.botToken;
    return async () => token;
  }
  const credentials = slackCredentials(setting, client);
  return async () => (await credentials()).botToken;
}
