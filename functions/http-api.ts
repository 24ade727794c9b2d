import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type AccessRequest, authorize } from '#lib/auth/access.ts';
import { createAuthenticator } from '#lib/auth/authenticate.ts';
import { type Caller, UnauthorizedError } from '#lib/auth/verify-token.ts';
import { parseEmailList } from '#lib/check/emails.ts';
import { assertGongAnswered } from '#lib/check/failures.ts';
import { deadlineOf } from '#lib/deadline.ts';
import { HttpError, ValidationError } from '#lib/errors.ts';
import { httpErrors, json, jsonBody } from '#lib/http/responses.ts';
import { createTeamApi } from '#lib/http/team-api.ts';
import { createUsersApi, emailFromPath } from '#lib/http/users-api.ts';
import { pageAssets } from '#lib/page/page-assets.ts';
import { createPageResponder } from '#lib/page/serve-page.ts';
import { createSweepStore } from '#lib/sweep/sweep-store.ts';
import { readAuthConfig, readPageSettings } from './wiring/config.ts';
import { wireCore } from './wiring/core.ts';
import { createDoorMetrics, withCheckMetrics } from './wiring/metrics.ts';

const metrics = createDoorMetrics('api');
// Gong's own counts (GongCalls, GongRateLimited, GongBudgetUsed) come from the requester and pacer.
const core = wireCore(undefined, undefined, { metrics: metrics.record });
const check = withCheckMetrics(core.checkUsers, metrics.record);
const authenticate = createAuthenticator(readAuthConfig());
const users = createUsersApi(core.store);
const sweeps = createSweepStore({ db: core.clients.db, table: core.config.table });
const team = createTeamApi({ store: core.store, listDailyStats: (days) => sweeps.listDailyStats(days) });
const pageSettings = readPageSettings();
const page =
  pageAssets && pageSettings
    ? createPageResponder(pageAssets, pageSettings.config, { connectOrigins: pageSettings.connectOrigins })
    : undefined;
/** A check request names at most 1000 entries, duplicates included (README "Who may call"). */
const MAX_EMAILS = 1000;

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;
type Handler = (event: Event, context: Context) => Promise<Result>;
interface Route {
  method: 'GET' | 'POST';
  path: string;
  handler: Handler;
}

/** Every path under /v1 needs a verified caller, known route or not (README "Who may call"). */
const isApiPath = (path: string) => path === '/v1' || path.startsWith('/v1/');
/** The caller of each event, set before routing. */
const callers = new WeakMap<Event, Caller>();

/**
 * A route whose `access` says what the request asks for; authorize() decides whether the caller
 * may ask it before `run` reads or checks anything. A new route is one more line below.
 */
function guarded<A extends AccessRequest>(
  method: Route['method'],
  path: string,
  access: (event: Event) => A,
  run: (asked: A, event: Event, context: Context) => Promise<Result>,
): Route {
  return {
    method,
    path,
    handler: async (event, context) => {
      const caller = callers.get(event);
      if (!caller) throw new UnauthorizedError('No bearer token: send Authorization: Bearer <token>');
      const asked = access(event);
      authorize(caller, asked);
      return run(asked, event, context);
    },
  };
}

/** The emails of a check request; more than MAX_EMAILS entries as sent is a 400 before anything else. */
function checkRequest(event: Event): { route: 'check'; emails: string[] } {
  const body = jsonBody(event) as { emails?: unknown } | null;
  const entries = body?.emails;
  if (Array.isArray(entries) && entries.length > MAX_EMAILS) {
    throw new ValidationError(
      `"emails" has ${entries.length} entries; at most ${MAX_EMAILS} per request, duplicates included`,
      { code: 'EMAILS_TOO_MANY' },
    );
  }
  return { route: 'check', emails: parseEmailList(entries) };
}

const userEmail = (event: Event) => emailFromPath(event.pathParameters?.email);

/** `GET /v1/users`: one JSON page, or with `format=csv` every user of the status. */
function listRequest(event: Event): { route: 'list' | 'csv' } {
  const format = event.queryStringParameters?.format ?? 'json';
  if (format !== 'json' && format !== 'csv')
    throw new HttpError(400, 'BAD_PARAMETER', '"format" must be json or csv');
  return { route: format === 'csv' ? 'csv' : 'list' };
}

/** The page's shell and assets: public (README "The team-health page"); its data calls need a token. */
const servePage: Handler = async (event) => {
  const answer = page?.respond(event.requestContext.http.path, event.headers?.['accept-encoding']);
  if (!answer) {
    throw new HttpError(404, 'NOT_FOUND', 'This deployment serves no team-health page: set PAGE_CLIENT_ID');
  }
  return answer;
};

const routes: Route[] = [
  guarded('POST', '/v1/checks', checkRequest, async ({ emails }, _event, context) => {
    const report = await check(emails, {
      source: 'api',
      requestId: context.awsRequestId,
      deadline: deadlineOf(context),
      maxEmails: MAX_EMAILS,
    });
    return json(200, assertGongAnswered(report));
  }),
  guarded('GET', '/v1/users', listRequest, async ({ route }, event) => {
    if (route === 'list') return json(200, await users.byStatus(event.queryStringParameters));
    const csv = await team.csv(event.queryStringParameters, event.headers?.['accept-encoding']);
    return { statusCode: 200, headers: csv.headers, body: csv.body, isBase64Encoded: csv.isBase64Encoded };
  }),
  guarded(
    'GET',
    '/v1/problems',
    () => ({ route: 'problems' }),
    async () => json(200, await team.problems()),
  ),
  guarded(
    'GET',
    '/v1/stats/daily',
    () => ({ route: 'stats' }),
    async (_asked, event) => json(200, await team.dailyStats(event.queryStringParameters)),
  ),
  guarded(
    'GET',
    '/v1/users/{email}',
    (event) => ({ route: 'latest', email: userEmail(event) }),
    async ({ email }) => json(200, await users.latest(email)),
  ),
  guarded(
    'GET',
    '/v1/users/{email}/history',
    (event) => ({ route: 'history', email: userEmail(event) }),
    async ({ email }, event) => json(200, await users.history(email, event.queryStringParameters)),
  ),
  // The page is not under /v1: nobody needs a token for the shell and its assets.
  ...(page ? Object.values(page.paths) : ['/']).map((path) => ({
    method: 'GET' as const,
    path,
    handler: servePage,
  })),
];

/**
 * The HTTP API (API Gateway payload v2): checks, latest results, history, listings, the team's problems,
 * daily counts and CSV, and the team-health page (public: GET / and its assets). Every other path
 * and method arrives here too (serverless.yml's catch-all route) and gets our JSON 404.
 */
export const handler = middy<Event, Result>()
  .before((request) => core.logger.addContext(request.context))
  .use(metrics.middleware())
  .use(httpErrors(core.logger))
  .before(async ({ event }) => {
    if (isApiPath(event.rawPath ?? event.requestContext.http.path))
      callers.set(event, await authenticate(event));
  })
  .handler(httpRouterHandler(routes));
