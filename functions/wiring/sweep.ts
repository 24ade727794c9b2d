import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createGongDirectory } from '#lib/gong/users-client.ts';
import { createChangeLog } from '#lib/history/change-log.ts';
import type { CheckMetrics } from '#lib/observability/metrics.ts';
import { slackBotToken } from '#lib/slack/credentials.ts';
import { createSlackNotifier } from '#lib/slack/sweep-notifier.ts';
import { createSlackApi } from '#lib/slack/web-api.ts';
import type { SweepNotifier } from '#lib/sweep/notifier.ts';
import { createSweep, type SweepContinuation } from '#lib/sweep/sweep.ts';
import { createSweepStore } from '#lib/sweep/sweep-store.ts';
import { createLambdaClient, invokeAsync } from './aws.ts';
import {
  type Env,
  readCoreConfig,
  readSweepAlerts,
  readSweepConfig,
  readSweepFunction,
  type SweepAlertConfig,
} from './config.ts';
import { type Core, wireCore } from './core.ts';

/** What `npm run sweep` replaces: the core it already wired, where the rest of a long sweep goes, where messages go. */
export interface SweepOverrides {
  core?: Core;
  handOff?: (event: SweepContinuation) => Promise<void>;
  notifier?: SweepNotifier;
  metrics?: CheckMetrics;
}

/** The sweep, built once per container from the core and sweep sections of the configuration. */
export function wireSweep(env?: Env, overrides: SweepOverrides = {}) {
  const core =
    overrides.core ??
    wireCore(readCoreConfig(env), undefined, overrides.metrics ? { metrics: overrides.metrics } : {});
  const config = readSweepConfig(env);
  const { db, secrets } = core.clients;
  const table = core.config.table;
  return createSweep({
    store: core.store,
    checkUsers: core.checkUsers,
    sweeps: createSweepStore({ db, table }),
    changes: createChangeLog({ db, table, retentionDays: core.config.retentionDays }),
    notifier: overrides.notifier ?? slackNotifier(readSweepAlerts(env), secrets),
    logger: core.logger,
    // A sweep that runs out of time hands the rest to a fresh invocation of itself.
    handOff:
      overrides.handOff ?? invokeAsync<SweepContinuation>(createLambdaClient(), readSweepFunction(env)),
    rps: core.config.maxRps,
    nudge: config.nudge,
    ...(overrides.metrics ? { metrics: overrides.metrics } : {}),
    ...(config.discover ? { directory: createGongDirectory({ request: core.gongRequest }) } : {}),
  });
}

function slackNotifier(alerts: SweepAlertConfig, secrets: SecretsManagerClient): SweepNotifier {
  const slack = createSlackApi({ baseUrl: alerts.apiUrl, botToken: slackBotToken(alerts.botToken, secrets) });
  return createSlackNotifier({ slack, channel: alerts.channel });
}
