import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigError } from '#lib/errors/errors.ts';
import { type LocalDynamo, startLocalDynamo } from '#local/dynamodb.ts';
import { type GongSandbox, startGongSandbox } from '#local/gong-sandbox.ts';
import { type OidcIssuer, parseAdmins, startOidcIssuer } from '#local/oidc-issuer.ts';
import { DEFAULT_BOT_TOKEN, type SlackApiStandIn, startSlackApi } from '#local/slack-api.ts';
import { ensureTable } from '#local/table.ts';
import { type Env, gongCredentialsKind, slackCredentialsKind } from '../functions/wiring/config.ts';

/** The serverless.yml stage `npm start` runs; its params give the functions no secret ids. */
export const LOCAL_STAGE = 'local';
/** serverless.yml names the table `${self:service}-${sls:stage}`. */
export const LOCAL_TABLE = `gong-status-${LOCAL_STAGE}`;
/** The key pair the local Gong sandbox accepts: not a secret, it guards nothing real. */
const SANDBOX_CREDENTIALS = { accessKey: 'sandbox-key', accessKeySecret: 'sandbox-secret' } as const;
/** The signing secret local Slack requests are signed with when no Slack app is configured: guards nothing real. */
export const LOCAL_SLACK_SIGNING_SECRET = 'local-slack-signing-secret';
/** The channel the sweep's digest goes to on the Slack stand-in, unless ALERT_CHANNEL says otherwise. */
const LOCAL_ALERT_CHANNEL = 'C0LOCALALERTS';

/** Each port the local stack binds, with the variable that moves it and its default. */
export const PORTS = {
  http: { variable: 'PORT', fallback: 3000 },
  lambda: { variable: 'LAMBDA_PORT', fallback: 3002 },
  dynamodb: { variable: 'DYNAMODB_PORT', fallback: 8000 },
  gongSandbox: { variable: 'GONG_SANDBOX_PORT', fallback: 3010 },
  slackApi: { variable: 'SLACK_API_PORT', fallback: 3011 },
  issuer: { variable: 'ISSUER_PORT', fallback: 3020 },
} as const;
export type PortName = keyof typeof PORTS;

/** Where the local stack keeps its data and which ports it binds. */
export interface LocalSettings {
  /** Absolute; dynalite's files and the state file live here. */
  dataDir: string;
  ports: Record<PortName, number>;
}

/** Where Gong credentials come from: none configured (the sandbox), the environment, or Secrets Manager. */
export type GongMode = 'sandbox' | 'env' | 'secret';
/** Where Slack credentials come from: none configured (the Slack stand-in), the environment, or Secrets Manager. */
export type SlackMode = 'stand-in' | 'env' | 'secret';

/** What a running `npm start` writes to `<dataDir>/local-stack.json` for the CLIs and for tests. */
export interface StackState {
  pid: number;
  startedAt: string;
  table: string;
  gong: GongMode;
  slack: SlackMode;
  /** `issuer`: the local OpenID Connect issuer whose tokens the local API accepts (npm run token asks it). */
  urls: { http: string; lambda: string; dynamodb: string; gong: string; slackApi?: string; issuer?: string };
  /** Every process `npm start` started, itself first; `group` ones were stopped as a process group. */
  processes: { name: string; pid: number; group?: boolean }[];
}

/** Thrown when a port the stack needs is taken; the message is the one line the user sees. */
export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/**
 * Loads ENV_FILE, else `.env`, else `.env.example` (so `npm ci && npm start` works with no step
 * between); variables already set win. Returns the path loaded.
 */
export function loadEnvFile(env: Env = process.env, cwd = process.cwd()): string | undefined {
  const explicit = env.ENV_FILE?.trim();
  for (const candidate of explicit ? [explicit] : ['.env', '.env.example']) {
    const path = resolve(cwd, candidate);
    if (!existsSync(path)) continue;
    process.loadEnvFile(path);
    return path;
  }
  return undefined;
}

/** Reads LOCAL_DATA_DIR and the port variables; a bad port fails by variable name. */
export function localSettings(env: Env, cwd = process.cwd()): LocalSettings {
  const ports = {} as Record<PortName, number>;
  for (const [name, { variable, fallback }] of Object.entries(PORTS) as [
    PortName,
    (typeof PORTS)[PortName],
  ][]) {
    const raw = env[variable]?.trim();
    const port = raw ? Number(raw) : fallback;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new ConfigError(`Environment variable ${variable} must be a port number 1-65535 (got ${raw})`);
    }
    ports[name] = port;
  }
  return { dataDir: resolve(cwd, env.LOCAL_DATA_DIR?.trim() || '.data'), ports };
}

/** LOCAL_ADMINS: who logs in to the local issuer as an admin (default admin@example.com). */
export function localAdmins(env: Env): string[] {
  return parseAdmins(env.LOCAL_ADMINS);
}

/** The Gong credentials the functions would use, or the sandbox when they name none. */
export function gongMode(env: Env): GongMode {
  return gongCredentialsKind(env) ?? 'sandbox';
}

/** The Slack credentials the functions would use, or the stand-in when they name none. */
export function slackMode(env: Env): SlackMode {
  return slackCredentialsKind(env) ?? 'stand-in';
}

/** Fails with one line naming the port and its variable when something already listens there. */
export async function assertPortFree(port: number, variable: string): Promise<void> {
  const server = createServer();
  try {
    await new Promise<void>((listening, failed) => {
      server.once('error', failed);
      server.listen(port, '127.0.0.1', listening);
    });
  } catch (error: unknown) {
    const code = (error as { code?: string }).code;
    throw new PortInUseError(
      code === 'EADDRINUSE'
        ? `Port ${port} is already in use: set ${variable} to a free port (e.g. ${variable}=${port + 100} npm start).`
        : `Cannot listen on 127.0.0.1:${port} (${code ?? 'error'}): set ${variable} to another port.`,
    );
  } finally {
    await new Promise<void>((closed) => server.close(() => closed()));
  }
}

/** The functions' environment (README "Configuration") pointing at the local servers: what the functions and the CLIs run with. */
export function localEnvironment(
  base: Env,
  urls: {
    dynamodb: string;
    lambda?: string;
    gong?: string;
    slackApi?: string;
    issuer?: Pick<OidcIssuer, 'url' | 'audience' | 'jwksUrl'>;
  },
): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: base.AWS_REGION || 'us-east-1',
    AWS_ENDPOINT_URL_DYNAMODB: urls.dynamodb,
    HISTORY_TABLE: LOCAL_TABLE,
    // The SDK's notice about Node 22 says nothing about this app; it would greet every cold start.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // The metrics' EMF lines are printed locally as in AWS (README › Operating it), even with
    // POWERTOOLS_DEV=true for readable logs, which would otherwise silence them; set it to true to hide them.
    POWERTOOLS_METRICS_DISABLED: base.POWERTOOLS_METRICS_DISABLED || 'false',
    // Lambda sets this in an on-demand container and Powertools counts a ColdStart only then;
    // serverless-offline does not set it.
    AWS_LAMBDA_INITIALIZATION_TYPE: base.AWS_LAMBDA_INITIALIZATION_TYPE || 'on-demand',
  };
  if (urls.lambda) env.AWS_ENDPOINT_URL_LAMBDA = urls.lambda;
  // dynalite accepts any keys; real ones (or a profile) are kept for Secrets Manager in 'secret' mode.
  if (!base.AWS_ACCESS_KEY_ID && !base.AWS_PROFILE) {
    env.AWS_ACCESS_KEY_ID = 'local';
    env.AWS_SECRET_ACCESS_KEY = 'local';
  }
  if (urls.gong) {
    // The sandbox, whatever else is configured: an empty secret id is no secret id (functions/wiring/config.ts).
    env.GONG_SECRET_ID = '';
    env.GONG_ACCESS_KEY = SANDBOX_CREDENTIALS.accessKey;
    env.GONG_ACCESS_KEY_SECRET = SANDBOX_CREDENTIALS.accessKeySecret;
    env.GONG_BASE_URL = urls.gong;
  }
  if (urls.slackApi) {
    env.SLACK_SECRET_ID = '';
    env.SLACK_SIGNING_SECRET = LOCAL_SLACK_SIGNING_SECRET;
    env.SLACK_BOT_TOKEN = DEFAULT_BOT_TOKEN;
    env.SLACK_API_URL = urls.slackApi;
    env.ALERT_CHANNEL = base.ALERT_CHANNEL || LOCAL_ALERT_CHANNEL;
  }
  if (urls.issuer) {
    // serverless-offline only decodes tokens: api verifies each one against the issuer's keys.
    env.AUTH_VERIFY = 'local';
    env.AUTH_ISSUER = urls.issuer.url;
    env.AUTH_AUDIENCE = urls.issuer.audience;
    env.AUTH_JWKS_URL = urls.issuer.jwksUrl;
  }
  return env;
}

/** dynalite (data kept in the data dir), the table, the Gong sandbox and the Slack stand-in when asked. */
export interface LocalServices {
  dynamo: LocalDynamo;
  sandbox?: GongSandbox;
  slack?: SlackApiStandIn;
  issuer?: OidcIssuer;
  urls: { dynamodb: string; gong: string; slackApi?: string; issuer?: string };
  stop(): Promise<void>;
}

/**
 * Starts the servers the functions need besides themselves. `anyPorts` picks free ports instead
 * of the configured ones (the CLIs, when no `npm start` is running).
 */
export async function startLocalServices(options: {
  settings: LocalSettings;
  gong: GongMode;
  gongBaseUrl?: string;
  /** Start the Slack Web API stand-in (when no Slack app is configured). */
  slack?: boolean;
  /** Start the local OpenID Connect issuer (npm start); whoever logs in as an address in `admins` is an admin. */
  issuer?: { admins: string[]; redirectUris: string[] };
  anyPorts?: boolean;
}): Promise<LocalServices> {
  const { settings } = options;
  const dynamoPath = join(settings.dataDir, 'dynamodb');
  await mkdir(dynamoPath, { recursive: true });
  let dynamo: LocalDynamo;
  try {
    dynamo = await startLocalDynamo({
      path: dynamoPath,
      ...(options.anyPorts ? {} : { port: settings.ports.dynamodb }),
    });
  } catch (error: unknown) {
    // LevelDB allows one process per directory: the usual cause is another run on the same data.
    throw new Error(
      `Could not start dynalite on ${dynamoPath} (is another gong-status using LOCAL_DATA_DIR=${settings.dataDir}?)`,
      { cause: error },
    );
  }
  let sandbox: GongSandbox | undefined;
  let slack: SlackApiStandIn | undefined;
  let issuer: OidcIssuer | undefined;
  try {
    const client = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    try {
      await ensureTable(client, LOCAL_TABLE);
    } finally {
      client.destroy();
    }
    if (options.gong === 'sandbox') {
      sandbox = await startGongSandbox({
        ...SANDBOX_CREDENTIALS,
        ...(options.anyPorts ? {} : { port: settings.ports.gongSandbox }),
      });
    }
    if (options.slack) {
      slack = await startSlackApi(options.anyPorts ? {} : { port: settings.ports.slackApi });
    }
    if (options.issuer) {
      issuer = await startOidcIssuer({
        ...options.issuer,
        ...(options.anyPorts ? {} : { port: settings.ports.issuer }),
      });
    }
  } catch (error: unknown) {
    await Promise.all([sandbox?.close(), slack?.close(), dynamo.stop()]);
    throw error;
  }
  return {
    dynamo,
    ...(sandbox ? { sandbox } : {}),
    ...(slack ? { slack } : {}),
    ...(issuer ? { issuer } : {}),
    urls: {
      dynamodb: dynamo.endpoint,
      gong: sandbox?.url ?? options.gongBaseUrl ?? 'https://api.gong.io',
      ...(slack ? { slackApi: slack.url } : {}),
      ...(issuer ? { issuer: issuer.url } : {}),
    },
    async stop() {
      await Promise.all([sandbox?.close(), slack?.close(), issuer?.close(), dynamo.stop()]);
    },
  };
}

/** The state file of a running `npm start`. */
export function stateFile(dataDir: string): string {
  return join(dataDir, 'local-stack.json');
}

export async function writeState(dataDir: string, state: StackState): Promise<void> {
  await writeFile(stateFile(dataDir), `${JSON.stringify(state, null, 2)}\n`);
}

export async function removeState(dataDir: string, pid: number): Promise<void> {
  // Only our own: a second start that was refused must not delete the running one's file.
  if ((await readState(dataDir))?.pid === pid) await rm(stateFile(dataDir), { force: true });
}

/** The state file as written, or undefined when there is none (or it is unreadable). */
export async function readState(dataDir: string): Promise<StackState | undefined> {
  try {
    return JSON.parse(await readFile(stateFile(dataDir), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

/** The state of an `npm start` that is still running on this data dir, else undefined. */
export async function readRunningState(dataDir: string): Promise<StackState | undefined> {
  const state = await readState(dataDir);
  return state && isAlive(state.pid) ? state : undefined;
}

/** True while a process with this id exists (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error: unknown) {
    // EPERM: it exists but belongs to someone else.
    return (error as { code?: string }).code === 'EPERM';
  }
}
