import type { Logger } from '@aws-lambda-powertools/logger';
import { type CheckUsers, createCheckUsers } from '#lib/check/check-users.ts';
import { gongCredentials } from '#lib/gong/credentials.ts';
import { createCallPacer } from '#lib/gong/pacer.ts';
import { createGongRequester, type GongRequester } from '#lib/gong/requester.ts';
import { createGongClient } from '#lib/gong/status-client.ts';
import { createHistoryStore, type HistoryStore } from '#lib/history/history-store.ts';
import { logger } from '#lib/observability/logger.ts';
import type { CheckMetrics } from '#lib/observability/metrics.ts';
import { type AwsClients, createAwsClients } from './aws.ts';
import { type CoreConfig, readCoreConfig } from './config.ts';

/** What every checking door shares: its configuration, clients, the history store and the check itself. */
export interface Core {
  config: CoreConfig;
  clients: AwsClients;
  logger: Logger;
  store: HistoryStore;
  checkUsers: CheckUsers;
  /** The paced, authenticated Gong requester (the sweep lists Gong's users with it). */
  gongRequest: GongRequester;
}

/** The core, built once per container from the core section of the configuration. */
export function wireCore(
  config: CoreConfig = readCoreConfig(),
  clients: AwsClients = createAwsClients(),
  options: { metrics?: Pick<CheckMetrics, 'gongCall' | 'gongRateLimited' | 'gongBudgetUsed'> } = {},
): Core {
  const { db } = clients;
  const { metrics } = options;
  const credentials = gongCredentials(config.gong, clients.secrets);
  // One pacer per container for every Gong call, status checks and user listing alike.
  const pacer = createCallPacer({
    db: clients.pacerDb,
    table: config.table,
    rps: config.maxRps,
    dailyBudget: config.dailyBudget,
    ...(metrics ? { onBudgetUsed: (percent: number) => metrics.gongBudgetUsed(percent) } : {}),
    onPauseWriteError: (error) =>
      logger.error("Could not share a 429's pause with the other containers", { error: error as Error }),
  });
  const request = createGongRequester({
    credentials,
    pacer,
    logger,
    timeoutMs: config.gongTimeoutMs,
    ...(metrics ? { metrics } : {}),
  });
  const gong = createGongClient({ request, logger });
  const store = createHistoryStore({
    db,
    table: config.table,
    retentionDays: config.retentionDays,
    onWriteError: (error) => logger.error('DynamoDB write failed', { error: error as Error }),
  });
  return {
    config,
    clients,
    logger,
    store,
    checkUsers: createCheckUsers({ gong, store, logger }),
    gongRequest: request,
  };
}
