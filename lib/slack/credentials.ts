import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { numberEnv } from '../config.ts';
import { ConfigError } from '../errors.ts';

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
  credentials:
    | { kind: 'secret'; secretId: string; maxAgeSeconds: number }
    | { kind: 'env'; signingSecret: string; botToken: string };
  apiUrl: string;
  /** The only origins the worker posts a response_url answer to: Slack's, and SLACK_API_URL's (a local stand-in). */
  responseOrigins: string[];
}

type Env = Record<string, string | undefined>;

/** Reads DESIGN.md's Slack variables: SLACK_SECRET_ID, or SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN; SLACK_API_URL. */
export function readSlackConfig(env: Env): SlackConfig {
  const secretId = env.SLACK_SECRET_ID?.trim();
  const signingSecret = env.SLACK_SIGNING_SECRET?.trim();
  const botToken = env.SLACK_BOT_TOKEN?.trim();
  let credentials: SlackConfig['credentials'];
  if (secretId) {
    credentials = { kind: 'secret', secretId, maxAgeSeconds: numberEnv(env, 'SECRETS_TTL_SECONDS', 300) };
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
  if (typeof raw !== 'string') throw new ConfigError(`Secret ${secretId} has no SecretString`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // JSON.parse's own message quotes the text: it would leak the secret.
    throw new ConfigError(`Secret ${secretId} is not valid JSON`);
  }
  const parsed = secretSchema.safeParse(json);
  if (!parsed.success) {
    const fields =
      json !== null && typeof json === 'object' ? Object.keys(json).join(', ') || 'none' : 'none';
    throw new ConfigError(
      `Secret ${secretId} must hold {"signingSecret","botToken"} as non-empty strings (fields present: ${fields})`,
    );
  }
  return parsed.data;
}

/** The credential source the configuration names: Secrets Manager through Powertools' TTL cache, or the env pair. */
export function slackCredentials(config: SlackConfig, client: SecretsManagerClient): SlackCredentialSource {
  const source = config.credentials;
  if (source.kind === 'env') {
    const fixed = { signingSecret: source.signingSecret, botToken: source.botToken };
    return async () => fixed;
  }
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  let inFlight: Promise<SlackCredentials> | undefined;
  return () => {
    // Concurrent first callers share one fetch; later ones hit Powertools' cache until maxAge.
    inFlight ??= provider
      .get(source.secretId, { maxAge: source.maxAgeSeconds })
      .then((raw) => parseSlackSecret(source.secretId, raw))
      .catch((error: unknown) => {
        if (error instanceof ConfigError) throw error;
        const reason = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
        throw new ConfigError(`Could not read secret ${source.secretId}: ${reason}`, { cause: error });
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
