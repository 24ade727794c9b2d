import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { readSecretRef, type SecretRef } from '#lib/config.ts';
import { ConfigError } from '#lib/errors.ts';
import { cachedSecret, parseJsonSecret } from '#lib/json-secret.ts';

/** Slack's own Web API base; SLACK_API_URL overrides it (tests and local runs point it at loopback). */
export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';

/** What the Slack app needs: the signing secret (verifying requests) and the bot token (Web API). */
export interface SlackCredentials {
  signingSecret: string;
  botToken: string;
}

/** Gives the current credentials, cached per container. */
export type SlackCredentialSource = () => Promise<SlackCredentials>;

/** Where Slack's response_urls live (commercial and GovSlack). */
const SLACK_RESPONSE_ORIGINS = ['https://hooks.slack.com', 'https://hooks.slack-gov.com'];

/** Where the Slack credentials come from, and where the Web API lives. */
export interface SlackConfig {
  credentials: SecretRef | { kind: 'env'; signingSecret: string; botToken: string };
  apiUrl: string;
  /** The only origins the worker posts a response_url answer to: Slack's, and SLACK_API_URL's (a local stand-in). */
  responseOrigins: string[];
}

type Env = Record<string, string | undefined>;

/** Reads DESIGN.md's Slack variables: SLACK_SECRET_ID, or SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN; SLACK_API_URL. */
export function readSlackConfig(env: Env): SlackConfig {
  const secret = readSecretRef(env, 'SLACK_SECRET_ID');
  const signingSecret = env.SLACK_SIGNING_SECRET?.trim();
  const botToken = env.SLACK_BOT_TOKEN?.trim();
  let credentials: SlackConfig['credentials'];
  if (secret) {
    credentials = secret;
  } else if (signingSecret && botToken) {
    credentials = { kind: 'env', signingSecret, botToken };
  } else {
    throw new ConfigError('Set SLACK_SECRET_ID, or SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, for Slack');
  }
  const apiUrl = env.SLACK_API_URL?.trim() || DEFAULT_SLACK_API_URL;
  let parsed: URL;
  try {
    parsed = new URL(apiUrl);
  } catch {
    throw new ConfigError('Environment variable SLACK_API_URL must be an absolute URL');
  }
  // The Web API method name is appended to the base: it must end in a slash.
  return {
    credentials,
    apiUrl: parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`,
    responseOrigins: [...SLACK_RESPONSE_ORIGINS, parsed.origin],
  };
}

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

/** The credential source the configuration names: Secrets Manager through Powertools' TTL cache, or the env pair. */
export function slackCredentials(config: SlackConfig, client: SecretsManagerClient): SlackCredentialSource {
  const source = config.credentials;
  if (source.kind === 'env') {
    const fixed = { signingSecret: source.signingSecret, botToken: source.botToken };
    return async () => fixed;
  }
  return cachedSecret({
    client,
    secretId: source.secretId,
    maxAgeSeconds: source.maxAgeSeconds,
    parse: (raw) => parseSlackSecret(source.secretId, raw),
  });
}
