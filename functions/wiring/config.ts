import type { AuthSetting } from '#lib/auth/authenticate.ts';
import type { SecretFieldSetting } from '#lib/crm/secret-field.ts';
import { ConfigError } from '#lib/errors/errors.ts';
import type { GongCredentialSetting } from '#lib/gong/credentials.ts';
import type { PageConfig } from '#lib/page/page-config.ts';
import type { SecretRef } from '#lib/secrets/json-secret.ts';
import type { SlackBotTokenSetting, SlackCredentialSetting } from '#lib/slack/credentials.ts';

/**
 * Every environment variable the functions read, read here and only here (README "Configuration").
 * The AWS SDK reads AWS_REGION and AWS_ENDPOINT_URL_* itself, and Powertools POWERTOOLS_*; nothing
 * else does. Each door reads its sections once, at load time, so a missing variable fails the cold
 * start by name rather than a request later. Only types come from lib/: a door's bundle holds the
 * modules it uses, not every module some section names.
 */

/** The environment, or a stand-in for it (tests, the CLIs). */
export type Env = Record<string, string | undefined>;

// --- Parsing ---------------------------------------------------------------------------------------

/** The value of a required variable, trimmed; a missing one fails the cold start by name. */
export function requireEnv(env: Env, name: string): string {
  const value = optionalEnv(env, name);
  if (!value) throw new ConfigError(`Environment variable ${name} is required`);
  return value;
}

/** A positive number from the environment, or the default; garbage fails by name. */
export function numberEnv(env: Env, name: string, fallback: number): number {
  const raw = optionalEnv(env, name);
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      `Environment variable ${name} must be a positive number (got ${JSON.stringify(raw)})`,
    );
  }
  return value;
}

/** `true` or `false` (any case); unset is false, anything else fails by name. */
export function flagEnv(env: Env, name: string): boolean {
  const value = optionalEnv(env, name)?.toLowerCase();
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  throw new ConfigError(`Environment variable ${name} must be true or false (got ${JSON.stringify(value)})`);
}

/** The trimmed value; an empty one counts as unset (local/stack.ts blanks secret ids that way). */
function optionalEnv(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

/** The secret `idVar` names, cached for SECRETS_TTL_SECONDS (default 300). */
function secretRef(env: Env, idVar: string): SecretRef {
  return {
    kind: 'secret',
    secretId: requireEnv(env, idVar),
    maxAgeSeconds: numberEnv(env, 'SECRETS_TTL_SECONDS', 300),
  };
}

/** The secret `idVar` names, or undefined when `idVar` is unset. */
function readSecretRef(env: Env, idVar: string): SecretRef | undefined {
  return optionalEnv(env, idVar) ? secretRef(env, idVar) : undefined;
}

// --- Core: every door that checks users or reads the table -----------------------------------------

/** The table, the Gong credentials and the pacing every checking door shares. */
export interface CoreConfig {
  /** HISTORY_TABLE */
  table: string;
  /** GONG_SECRET_ID, else GONG_ACCESS_KEY + GONG_ACCESS_KEY_SECRET (+ GONG_BASE_URL); SECRETS_TTL_SECONDS. */
  gong: GongCredentialSetting;
  /** GONG_MAX_RPS (default 3, Gong's company limit) */
  maxRps: number;
  /** GONG_TIMEOUT_MS (default 10 s) */
  gongTimeoutMs: number;
  /** GONG_DAILY_BUDGET (default 5,000: half of Gong's 10,000 a day, which other integrations share) */
  dailyBudget: number;
  /** HISTORY_RETENTION_DAYS (default 400) */
  retentionDays: number;
}

/** Which Gong credentials the environment names: a secret id wins over the key pair; undefined for neither. */
export function gongCredentialsKind(env: Env = process.env): 'secret' | 'env' | undefined {
  if (optionalEnv(env, 'GONG_SECRET_ID')) return 'secret';
  if (optionalEnv(env, 'GONG_ACCESS_KEY') || optionalEnv(env, 'GONG_ACCESS_KEY_SECRET')) return 'env';
  return undefined;
}

/** Reads the core section. */
export function readCoreConfig(env: Env = process.env): CoreConfig {
  const table = requireEnv(env, 'HISTORY_TABLE');
  return {
    table,
    gong: readGongCredentials(env),
    maxRps: numberEnv(env, 'GONG_MAX_RPS', 3),
    gongTimeoutMs: numberEnv(env, 'GONG_TIMEOUT_MS', 10_000),
    dailyBudget: numberEnv(env, 'GONG_DAILY_BUDGET', 5_000),
    retentionDays: numberEnv(env, 'HISTORY_RETENTION_DAYS', 400),
  };
}

function readGongCredentials(env: Env): GongCredentialSetting {
  switch (gongCredentialsKind(env)) {
    case 'secret':
      return secretRef(env, 'GONG_SECRET_ID');
    case 'env': {
      const baseUrl = optionalEnv(env, 'GONG_BASE_URL');
      return {
        kind: 'env',
        accessKey: requireEnv(env, 'GONG_ACCESS_KEY'),
        accessKeySecret: requireEnv(env, 'GONG_ACCESS_KEY_SECRET'),
        ...(baseUrl ? { baseUrl } : {}),
      };
    }
    case undefined:
      throw new ConfigError(
        'Set GONG_SECRET_ID, or GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET, for Gong credentials',
      );
  }
}

// --- Slack: the slash command and its worker --------------------------------------------------------

/** Slack's own Web API base; SLACK_API_URL overrides it (tests and local runs point it at loopback). */
export const DEFAULT_SLACK_API_URL = 'https://slack.com/api/';
/**
 * Where Slack's response_urls live (commercial and GovSlack): a command's under /commands/, a click's
 * under /actions/. The same hosts serve incoming webhooks (/services/…), which the worker must never post to.
 */
const SLACK_RESPONSE_URLS = ['https://hooks.slack.com', 'https://hooks.slack-gov.com'].flatMap((origin) => [
  `${origin}/commands/`,
  `${origin}/actions/`,
]);
/** A local stand-in's response URLs (local/slack-api.ts): Slack's two paths and its own /responses/. */
const STAND_IN_RESPONSE_PATHS = ['/commands/', '/actions/', '/responses/'];

/** Where the Slack credentials come from, and where the Web API lives. */
export interface SlackConfig {
  /** SLACK_SECRET_ID, else SLACK_SIGNING_SECRET + SLACK_BOT_TOKEN; SECRETS_TTL_SECONDS. */
  credentials: SlackCredentialSetting;
  /** SLACK_API_URL, ending in a slash. */
  apiUrl: string;
  /**
   * The only URL prefixes the worker posts a response_url answer to: Slack's commands and actions, and
   * when SLACK_API_URL points elsewhere (a local stand-in), that origin's response paths.
   */
  responseUrls: string[];
}

/** Which Slack credentials the environment names: a secret id, then signing secret and bot token together. */
export function slackCredentialsKind(env: Env = process.env): 'secret' | 'env' | undefined {
  if (optionalEnv(env, 'SLACK_SECRET_ID')) return 'secret';
  if (optionalEnv(env, 'SLACK_SIGNING_SECRET') && optionalEnv(env, 'SLACK_BOT_TOKEN')) return 'env';
  return undefined;
}

/** Reads the Slack section (the worker's whole configuration besides the core). */
export function readSlackConfig(env: Env = process.env): SlackConfig {
  let credentials: SlackCredentialSetting;
  switch (slackCredentialsKind(env)) {
    case 'secret':
      credentials = secretRef(env, 'SLACK_SECRET_ID');
      break;
    case 'env':
      credentials = {
        kind: 'env',
        signingSecret: requireEnv(env, 'SLACK_SIGNING_SECRET'),
        botToken: requireEnv(env, 'SLACK_BOT_TOKEN'),
      };
      break;
    case undefined:
      throw new ConfigError('Set SLACK_SECRET_ID, or SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, for Slack');
  }
  const apiUrl = slackApiUrl(env);
  const origin = new URL(apiUrl).origin;
  const standIn =
    origin === new URL(DEFAULT_SLACK_API_URL).origin
      ? []
      : STAND_IN_RESPONSE_PATHS.map((path) => `${origin}${path}`);
  return { credentials, apiUrl, responseUrls: [...SLACK_RESPONSE_URLS, ...standIn] };
}

/** The worker's Slack section: the credentials and API, who counts as an admin, and the team page. */
export interface SlackWorkerConfig {
  slack: SlackConfig;
  /** SLACK_ADMIN_USERS: Slack user ids who see the team in App Home (workspace admins and owners do anyway). */
  adminUsers: string[];
  /** TEAM_PAGE_URL: the team-health page App Home links admins to; unset, no link. */
  teamPageUrl?: string;
}

/** Reads the worker's Slack section. */
export function readSlackWorkerConfig(env: Env = process.env): SlackWorkerConfig {
  const slack = readSlackConfig(env);
  const adminUsers = (optionalEnv(env, 'SLACK_ADMIN_USERS') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const bad = adminUsers.filter((id) => !/^[UW][A-Z0-9]{2,}$/.test(id));
  if (bad.length > 0) {
    throw new ConfigError(
      `Environment variable SLACK_ADMIN_USERS must list Slack user ids (U… or W…), comma-separated; ${bad.length} entries are not`,
    );
  }
  const page = optionalEnv(env, 'TEAM_PAGE_URL');
  if (page !== undefined && !/^https?:\/\/[^/]/.test(page)) {
    throw new ConfigError('Environment variable TEAM_PAGE_URL must be an http(s) URL');
  }
  return { slack, adminUsers, ...(page === undefined ? {} : { teamPageUrl: page }) };
}

/** The slash command's door: no table and no Gong, only Slack and the worker it hands off to. */
export interface SlackCommandConfig {
  slack: SlackConfig;
  /** SLACK_WORKER_FUNCTION: the function the command's work is handed to. */
  workerFunction: string;
}

/** Reads the slash command's sections. */
export function readSlackCommandConfig(env: Env = process.env): SlackCommandConfig {
  const slack = readSlackConfig(env);
  return { slack, workerFunction: requireEnv(env, 'SLACK_WORKER_FUNCTION') };
}

/** SLACK_API_URL, or Slack's own; Web API method names are appended to it, so it ends in a slash. */
function slackApiUrl(env: Env): string {
  let url: URL;
  try {
    url = new URL(optionalEnv(env, 'SLACK_API_URL') ?? DEFAULT_SLACK_API_URL);
  } catch {
    throw new ConfigError('Environment variable SLACK_API_URL must be an absolute URL');
  }
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

// --- CRM: the webhook and Salesforce outbound messages ----------------------------------------------

/** A Salesforce Organization Id: 15 characters, or 18 with the case-safe suffix; orgs start with 00D. */
const ORG_ID = /^00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?$/;

/** The CRM webhook's Standard Webhooks signing secret: CRM_WEBHOOK_SECRET_ID (field signingSecret), or CRM_WEBHOOK_SECRET. */
export function readCrmWebhookSecret(env: Env = process.env): SecretFieldSetting {
  return readSecretField(env, {
    secretIdVar: 'CRM_WEBHOOK_SECRET_ID',
    valueVar: 'CRM_WEBHOOK_SECRET',
    field: 'signingSecret',
  });
}

export interface SalesforceConfig {
  /** SALESFORCE_ORG_ID: the Organization Ids allowed to send outbound messages (15-character form). */
  orgIds: string[];
  /** SALESFORCE_SECRET_ID (field token), or SALESFORCE_TOKEN: the token the outbound message URL carries. */
  token: SecretFieldSetting;
}

/** Reads the Salesforce outbound-message door's section. */
export function readSalesforceConfig(env: Env = process.env): SalesforceConfig {
  const ids = requireEnv(env, 'SALESFORCE_ORG_ID')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const bad = ids.filter((id) => !ORG_ID.test(id));
  if (ids.length === 0 || bad.length > 0) {
    throw new ConfigError(
      `Environment variable SALESFORCE_ORG_ID must list Salesforce Organization Ids (00D…, 15 or 18 characters), comma-separated; ${bad.length} entries are not`,
    );
  }
  return {
    orgIds: ids.map((id) => id.slice(0, 15)),
    token: readSecretField(env, {
      secretIdVar: 'SALESFORCE_SECRET_ID',
      valueVar: 'SALESFORCE_TOKEN',
      field: 'token',
    }),
  };
}

/** A secret id (Secrets Manager, cached for SECRETS_TTL_SECONDS) wins over the value itself. */
function readSecretField(
  env: Env,
  names: { secretIdVar: string; valueVar: string; field: string },
): SecretFieldSetting {
  const secret = readSecretRef(env, names.secretIdVar);
  if (secret) return { ...secret, field: names.field };
  const value = optionalEnv(env, names.valueVar);
  if (value) return { kind: 'env', value };
  throw new ConfigError(`Set ${names.secretIdVar} (Secrets Manager) or ${names.valueVar}`);
}

// --- Sweep: besides the core ------------------------------------------------------------------------
// The sweep reads the core section, SWEEP_DISCOVER and NUDGE_USERS, and ALERT_CHANNEL, SLACK_SECRET_ID
// or SLACK_BOT_TOKEN, SLACK_API_URL (readSweepAlerts) and SWEEP_FUNCTION (readSweepFunction). `npm run
// sweep` carries a long sweep on in its own process and may print the digest instead of posting it:
// it reads neither of the last two.

export interface SweepConfig {
  /** SWEEP_DISCOVER: also check every active Gong user. */
  discover: boolean;
  /** NUDGE_USERS: DM broken users on days 1, 3 and 7. */
  nudge: boolean;
}

/** Reads the sweep's flags. */
export function readSweepConfig(env: Env = process.env): SweepConfig {
  return { discover: flagEnv(env, 'SWEEP_DISCOVER'), nudge: flagEnv(env, 'NUDGE_USERS') };
}

/** Where the sweep's digest (and nudges) go. */
export interface SweepAlertConfig {
  /** ALERT_CHANNEL: the channel id the digest is posted to. */
  channel: string;
  /** SLACK_SECRET_ID (its botToken), else SLACK_BOT_TOKEN: the sweep posts, it never verifies a request. */
  botToken: SlackBotTokenSetting;
  /** SLACK_API_URL */
  apiUrl: string;
}

/** Reads where the sweep posts. */
export function readSweepAlerts(env: Env = process.env): SweepAlertConfig {
  const channel = requireEnv(env, 'ALERT_CHANNEL');
  const secret = readSecretRef(env, 'SLACK_SECRET_ID');
  const botToken: SlackBotTokenSetting = secret ?? {
    kind: 'env',
    botToken: requireEnv(env, 'SLACK_BOT_TOKEN'),
  };
  return { channel, botToken, apiUrl: slackApiUrl(env) };
}

/** True when the environment names a channel and a bot token, so the sweep can post its digest to Slack. */
export function sweepPostsToSlack(env: Env = process.env): boolean {
  return Boolean(
    optionalEnv(env, 'ALERT_CHANNEL') &&
      (optionalEnv(env, 'SLACK_BOT_TOKEN') || optionalEnv(env, 'SLACK_SECRET_ID')),
  );
}

/** SWEEP_FUNCTION: the sweep's own function, which a sweep out of time hands the rest of its work to. */
export function readSweepFunction(env: Env = process.env): string {
  return requireEnv(env, 'SWEEP_FUNCTION');
}

// --- Auth: who may call the HTTP API (README "Who may call") ---------------------------------------

/**
 * How the api function learns who is calling. In AWS, API Gateway's JWT authorizer verifies the
 * token and the function reads the claims it passes (`gateway`). Under `npm start`, serverless-offline
 * only decodes tokens, so the function verifies the bearer token itself against the issuer's keys
 * (`local`): signature, issuer, audience and expiry, as API Gateway would.
 */
export type AuthConfig = AuthSetting;

/** Reads AUTH_VERIFY (gateway, the default, or local), AUTH_ISSUER, AUTH_AUDIENCE (comma-separated) and AUTH_JWKS_URL. */
export function readAuthConfig(env: Env = process.env): AuthConfig {
  const verify = optionalEnv(env, 'AUTH_VERIFY')?.toLowerCase() ?? 'gateway';
  const audiences = (optionalEnv(env, 'AUTH_AUDIENCE') ?? '')
    .split(',')
    .map((audience) => audience.trim())
    .filter(Boolean);
  if (verify === 'gateway') {
    const issuer = optionalEnv(env, 'AUTH_ISSUER');
    return { verify, audiences, ...(issuer ? { issuer } : {}) };
  }
  if (verify !== 'local') {
    throw new ConfigError(
      `Environment variable AUTH_VERIFY must be gateway or local (got ${JSON.stringify(verify)})`,
    );
  }
  const issuer = requireEnv(env, 'AUTH_ISSUER');
  const jwksUrl = requireEnv(env, 'AUTH_JWKS_URL');
  if (audiences.length === 0) throw new ConfigError('Environment variable AUTH_AUDIENCE is required');
  for (const [name, value] of [
    ['AUTH_ISSUER', issuer],
    ['AUTH_JWKS_URL', jwksUrl],
  ] as const) {
    if (!URL.canParse(value)) throw new ConfigError(`Environment variable ${name} must be an absolute URL`);
  }
  return { verify, issuer, audiences, jwksUrl };
}

// --- The team-health page, served by api -----------------------------------------------------------

/** What api tells the page (its config) and which other origins the page may call. */
export interface PageSettings {
  config: PageConfig;
  /** PAGE_CONNECT_ORIGINS: where the issuer's token endpoint lives when not on the issuer (Cognito's hosted UI). */
  connectOrigins: string[];
}

/**
 * Reads the page's section (README "The team-health page"): PAGE_CLIENT_ID, the issuer's client id
 * for the page; PAGE_AUTHORITY, default AUTH_ISSUER; PAGE_USE_ID_TOKEN (Cognito: its access tokens
 * carry no email); PAGE_CONNECT_ORIGINS, comma-separated. Undefined when PAGE_CLIENT_ID is unset:
 * api then serves no page, and its other routes work as before.
 */
export function readPageSettings(env: Env = process.env): PageSettings | undefined {
  const clientId = optionalEnv(env, 'PAGE_CLIENT_ID');
  if (!clientId) return undefined;
  const authority = optionalEnv(env, 'PAGE_AUTHORITY') ?? optionalEnv(env, 'AUTH_ISSUER');
  if (!authority)
    throw new ConfigError('Set PAGE_AUTHORITY or AUTH_ISSUER: the issuer the page logs in with');
  const connectOrigins = (optionalEnv(env, 'PAGE_CONNECT_ORIGINS') ?? '')
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '');
  for (const origin of [authority, ...connectOrigins]) {
    if (!/^https?:\/\/[^/]/.test(origin)) {
      throw new ConfigError('PAGE_AUTHORITY, AUTH_ISSUER and PAGE_CONNECT_ORIGINS must be http(s) URLs');
    }
  }
  const config: PageConfig = { authority, clientId };
  if (flagEnv(env, 'PAGE_USE_ID_TOKEN')) config.useIdToken = true;
  return { config, connectOrigins };
}
