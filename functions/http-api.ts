import middy from '@middy/core';
import httpRouterHandler from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { assertGongAnswered } from '#lib/check/failures.ts';
import { deadlineOf } from '#lib/deadline.ts';
import { httpErrors, json, jsonBody } from '#lib/http/responses.ts';
import { createUsersApi, emailFromPath } from '#lib/http/users-api.ts';
import { wireCore } from './wiring/core.ts';
import { createDoorMetrics, withCheckMetrics } from './wiring/metrics.ts';

const core = wireCore();
const metrics = createDoorMetrics('api');
const check = withCheckMetrics(core.checkUsers, metrics.record);
const users = createUsersApi(core.store);
/** A check request names at most 1000 emails. */
const MAX_EMAILS = 1000;

type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const checkUsers: Route = async (event, context) => {
  const body = jsonBody(event) as { emails?: unknown } | null;
  const report = await check(body?.emails, {
    source: 'api',
    requestId: context.awsRequestId,
    deadline: deadlineOf(context),
    maxEmails: MAX_EMAILS,
  });
  return json(200, assertGongAnswered(report));
};

const routes = [
  { method: 'POST' as const, path: '/v1/checks', handler: checkUsers },
  {
    method: 'GET' as const,
    path: '/v1/users',
    handler: (async (event) => json(200, await users.byStatus(event.queryStringParameters))) satisfies Route,
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

/** The HTTP API (API Gateway payload v2): checks, latest results, history, status listings. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
  .before((request) => core.logger.addContext(request.context))
  .use(metrics.middleware())
  .use(httpErrors(core.logger))
  .handler(httpRouterHandler(routes));
