import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createAuthenticator } from '#lib/auth/authenticate.ts';
import { createApiRoutes } from '#lib/http/api-routes.ts';
import { httpErrors } from '#lib/http/responses.ts';
import { createTeamApi } from '#lib/http/team-api.ts';
import { createUsersApi } from '#lib/http/users-api.ts';
import { pageAssets } from '#lib/page/page-assets.ts';
import { createPageResponder } from '#lib/page/serve-page.ts';
import { createSweepStore } from '#lib/sweep/sweep-store.ts';
import { readAuthConfig, readPageSettings } from './wiring/config.ts';
import { wireCore } from './wiring/core.ts';
import { createDoorMetrics, withCheckMetrics } from './wiring/metrics.ts';

const metrics = createDoorMetrics('api');
// Gong's own counts (GongCalls, GongRateLimited, GongBudgetUsed) come from the requester and pacer.
const core = wireCore(undefined, undefined, { metrics: metrics.record });
const sweeps = createSweepStore({ db: core.clients.db, table: core.config.table });
const pageSettings = readPageSettings();
const api = createApiRoutes({
  check: withCheckMetrics(core.checkUsers, metrics.record),
  users: createUsersApi(core.store),
  team: createTeamApi({ store: core.store, listDailyStats: (days) => sweeps.listDailyStats(days) }),
  page:
    pageAssets && pageSettings
      ? createPageResponder(pageAssets, pageSettings.config, { connectOrigins: pageSettings.connectOrigins })
      : undefined,
  authenticate: createAuthenticator(readAuthConfig()),
});

/**
 * The HTTP API (API Gateway payload v2): checks, latest results, history, listings, the team's problems,
 * daily counts and CSV, and the team-health page (public: GET / and its assets). Every other path
 * and method arrives here too (serverless.yml's catch-all route) and gets our JSON 404.
 */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .before((request) => core.logger.addContext(request.context))
  .use(metrics.middleware())
  .use(httpErrors(core.logger))
  .before(({ event }) => api.identify(event))
  .handler(httpRouterHandler(api.routes));
