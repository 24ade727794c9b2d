import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { assertGongAnswered } from '#lib/check/failures.ts';
import { deadlineOf } from '#lib/deadline.ts';
import { HttpError } from '#lib/errors.ts';
import { httpErrors, json, jsonBody } from '#lib/http/responses.ts';
import { createTeamApi } from '#lib/http/team-api.ts';
import { createUsersApi, emailFromPath } from '#lib/http/users-api.ts';
import { pageAssets } from '#lib/page/page-assets.ts';
import { createPageResponder } from '#lib/page/serve-page.ts';
import { readPageSettings } from './wiring/config.ts';
import { wireCore } from './wiring/core.ts';

const core = wireCore();
const users = createUsersApi(core.store);
const team = createTeamApi({ store: core.store });
const pageSettings = readPageSettings();
const page =
  pageAssets && pageSettings
    ? createPageResponder(pageAssets, pageSettings.config, { connectOrigins: pageSettings.connectOrigins })
    : undefined;
/** A check request names at most 1000 emails. */
const MAX_EMAILS = 1000;

type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const checkUsers: Route = async (event, context) => {
  const body = jsonBody(event) as { emails?: unknown } | null;
  const report = await core.checkUsers(body?.emails, {
    source: 'api',
    requestId: context.awsRequestId,
    deadline: deadlineOf(context),
    maxEmails: MAX_EMAILS,
  });
  return json(200, assertGongAnswered(report));
};

/** `?format=csv`: every user of the status as CSV; otherwise one JSON page. */
const listUsers: Route = async (event) => {
  const query = event.queryStringParameters;
  const format = query?.format ?? 'json';
  if (format === 'json') return json(200, await users.byStatus(query));
  if (format !== 'csv') throw new HttpError(400, 'BAD_PARAMETER', '"format" must be json or csv');
  const { body, isBase64Encoded, headers } = await team.csv(query, event.headers?.['accept-encoding']);
  return { statusCode: 200, headers, body, isBase64Encoded };
};

/** The page's shell and assets: public (README "The team-health page"); its data calls need a token. */
const servePage: Route = async (event) => {
  const answer = page?.respond(event.requestContext.http.path, event.headers?.['accept-encoding']);
  if (!answer) {
    throw new HttpError(
      404,
      'PAGE_NOT_CONFIGURED',
      'This deployment serves no team-health page: set PAGE_CLIENT_ID',
    );
  }
  return answer;
};

const routes = [
  ...(page ? Object.values(page.paths) : ['/']).map((path) => ({
    method: 'GET' as const,
    path,
    handler: servePage,
  })),
  { method: 'POST' as const, path: '/v1/checks', handler: checkUsers },
  { method: 'GET' as const, path: '/v1/users', handler: listUsers },
  {
    method: 'GET' as const,
    path: '/v1/problems',
    handler: (async () => json(200, await team.problems())) satisfies Route,
  },
  {
    method: 'GET' as const,
    path: '/v1/stats/daily',
    handler: (async (event) => json(200, await team.dailyStats(event.queryStringParameters))) satisfies Route,
  },
  {
    method: 'GET' as const,
    path: '/v1/users/{email}',
    handler: (async (event) =>
      json(200, await users.latest(emailFromPath(event.pathParameters?.email)))) satisfies Route,
  },
  {
    method: 'GET' as const,
    path: '/v1/users/{email}/history',
    handler: (async (event) =>
      json(
        200,
        await users.history(emailFromPath(event.pathParameters?.email), event.queryStringParameters),
      )) satisfies Route,
  },
];

/** The HTTP API (API Gateway payload v2): checks, latest results, history, listings, team reads, the page. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .before((request) => core.logger.addContext(request.context))
  .use(httpErrors(core.logger))
  .handler(httpRouterHandler(routes));
