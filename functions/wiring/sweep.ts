import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { requireEnv } from '#lib/config.ts';
import { ConfigError } from '#lib/errors.ts';
import { createGongDirectory } from '#lib/gong/users-client.ts';
import { createChangeLog } from '#lib/history/change-log.ts';
import { DEFAULT_SLACK_API_URL, readSlackConfig, slackCredentials } from '#lib/slack/credentials.ts';
import { createSlackNotifier } from '#lib/slack/sweep-notifier.ts';
import { createSlackApi } from '#lib/slack/web-api.ts';
import type { SweepNotifier } from '#lib/sweep/notifier.ts';
import { createSweep, type SweepContinuation } from '#lib/sweep/sweep.ts';
import { createSweepStore } from '#lib/sweep/sweep-store.ts';
import { wireCore } from './core.ts';

type Env = Record<string, string | undefined>;

/** What `npm run sweep` replaces: the core it already wired, where the rest of a long sweep goes, where messages go. */
export interface SweepOverrides {
  core?: ReturnType<typeof wireCore>;
  handOff?: (event: SweepContinuation) => Promise<void>;
  notifier?: SweepNotifier;
}

/** The sweep, built once per container from DESIGN.md's environment (plus SWEEP_DISCOVER, NUDGE_USERS). */
export function wireSweep(env: Env = process.env, overrides: SweepOverrides = {}) {
  const core = overrides.core ?? wireCore(env);
  const { db, secrets } = core.clients;
  const table = core.config.table;
  const discover = flag(env, 'SWEEP_DISCOVER');
  return createSweep({
    store: core.store,
    checkUsers: core.checkUsers,
    sweeps: createSweepStore({ db, table }),
    changes: createChangeLog({ db, table }),
    notifier: overrides.notifier ?? slackNotifier(env, secrets),
    logger: core.logger,
    handOff: overrides.handOff ?? invokeSelf(requireEnv(env, 'SWEEP_FUNCTION')),
    rps: core.config.maxRps,
    nudge: flag(env, 'NUDGE_USERS'),
    ...(discover
      ? {
          directory: createGongDirectory({ request: core.gongRequest }),
        }
      : {}),
  });
}

/** Async self-invoke (`InvocationType: 'Event'`): Lambda queues the continuation and answers 202 at once. */
function invokeSelf(functionName: string) {
  const lambda = new LambdaClient({ requestHandler: { connectionTimeout: 2_000, requestTimeout: 5_000 } });
  return async (event: SweepContinuation) => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
    if (out.StatusCode !== 202) {
      throw new Error(`Lambda answered ${out.StatusCode} to the async invoke of ${functionName}`);
    }
  };
}

/** The sweep needs only the bot token: from SLACK_SECRET_ID's JSON, or SLACK_BOT_TOKEN. */
function slackNotifier(env: Env, secrets: SecretsManagerClient): SweepNotifier {
  const channel = requireEnv(env, 'ALERT_CHANNEL');
  let botToken: () => Promise<string>;
  let baseUrl: string;
  if (env.SLACK_SECRET_ID?.trim()) {
    const config = readSlackConfig(env);
    const credentials = slackCredentials(config, secrets);
    botToken = async () => (await credentials()).botToken;
    baseUrl = config.apiUrl;
  } else {
    const token = requireEnv(env, 'SLACK_BOT_TOKEN');
    botToken = async () => token;
    baseUrl = apiUrl(env.SLACK_API_URL?.trim() || DEFAULT_SLACK_API_URL);
  }
  return createSlackNotifier({ slack: createSlackApi({ baseUrl, botToken }), channel });
}

function apiUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('Environment variable SLACK_API_URL must be an absolute URL');
  }
  // Web API method names are appended to the base: it must end in a slash.
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

function flag(env: Env, name: string): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  throw new ConfigError(`Environment variable ${name} must be true or false (got ${JSON.stringify(value)})`);
}
