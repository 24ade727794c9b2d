import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { type AccessRequest, authorize } from '#lib/auth/access.ts';
import type { Authenticator } from '#lib/auth/authenticate.ts';
import { type Caller, UnauthorizedError } from '#lib/auth/verify-token.ts';
import type { CheckUsers } from '#lib/check/check-users.ts';
import { parseEmailList } from '#lib/check/emails.ts';
import { assertGongAnswered } from '#lib/check/failures.ts';
import { HttpError, ValidationError } from '#lib/errors/errors.ts';
import { json, jsonBody } from '#lib/http/responses.ts';
import type { createTeamApi } from '#lib/http/team-api.ts';
import { type createUsersApi, emailFromPath } from '#lib/http/users-api.ts';
import { deadlineOf } from '#lib/invocation/deadline.ts';
import type { PageResponder } from '#lib/page/serve-page.ts';

/** A check request names at most 1000 entries, duplicates included (README "Who may call"). */
const MAX_EMAILS = 1000;

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;
type Handler = (event: Event, context: Context) => Promise<Result>;
/** A route of @middy/http-router. */
export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handler: Handler;
}

/** Every path under /v1 needs a verified caller, known route or not (README "Who may call"). */
const isApiPath = (path: string) => path === '/v1' || path.startsWith('/v1/');

/**
 * A route whose `access` says what the request asks for; authorize() decides whether the caller
 * may ask it before `run` reads or checks anything. A new route is one more line below.
 */
function guarded<A extends AccessRequest>(
  callers: WeakMap<Event, Caller>,
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

/** What the HTTP API's routes call: each built once per container by the door. */
export interface ApiDeps {
  check: CheckUsers;
  users: ReturnType<typeof createUsersApi>;
  team: ReturnType<typeof createTeamApi>;
  /** The team-health page, when the deployment serves one. */
  page: PageResponder | undefined;
  authenticate: Authenticator;
}

/**
 * The HTTP API's routes (README "HTTP API") and the step that settles who is calling: every path under
 * /v1 needs a verified caller, known route or not; the page's shell and assets need none.
 */
export function createApiRoutes(deps: ApiDeps): { routes: Route[]; identify(event: Event): Promise<void> } {
  const callers = new WeakMap<Event, Caller>();
  /** The page's shell and assets: public (README "The team-health page"); its data calls need a token. */
  const servePage: Handler = async (event) => {
    const answer = deps.page?.respond(event.requestContext.http.path, event.headers?.['accept-encoding']);
    if (!answer) {
      throw new HttpError(404, 'NOT_FOUND', 'This deployment serves no team-health page: set PAGE_CLIENT_ID');
    }
    return answer;
  };
  const routes: Route[] = [
    guarded(callers, 'POST', '/v1/checks', checkRequest, async ({ emails }, _event, context) => {
      const report = await deps.check(emails, {
        source: 'api',
        requestId: context.awsRequestId,
        deadline: deadlineOf(context),
        maxEmails: MAX_EMAILS,
      });
      return json(200, assertGongAnswered(report));
    }),
    guarded(callers, 'GET', '/v1/users', listRequest, async ({ route }, event) => {
      if (route === 'list') return json(200, await deps.users.byStatus(event.queryStringParameters));
      const csv = await deps.team.csv(event.queryStringParameters, event.headers?.['accept-encoding']);
      return { statusCode: 200, headers: csv.headers, body: csv.body, isBase64Encoded: csv.isBase64Encoded };
    }),
    guarded(
      callers,
      'GET',
      '/v1/problems',
      () => ({ route: 'problems' }),
      async () => json(200, await deps.team.problems()),
    ),
    guarded(
      callers,
      'GET',
      '/v1/stats/daily',
      () => ({ route: 'stats' }),
      async (_asked, event) => json(200, await deps.team.dailyStats(event.queryStringParameters)),
    ),
    guarded(
      callers,
      'GET',
      '/v1/users/{email}',
      (event) => ({ route: 'latest', email: userEmail(event) }),
      async ({ email }) => json(200, await deps.users.latest(email)),
    ),
    guarded(
      callers,
      'GET',
      '/v1/users/{email}/history',
      (event) => ({ route: 'history', email: userEmail(event) }),
      async ({ email }, event) => json(200, await deps.users.history(email, event.queryStringParameters)),
    ),
    // The page is not under /v1: nobody needs a token for the shell and its assets.
    ...(deps.page ? Object.values(deps.page.paths) : ['/']).map((path) => ({
      method: 'GET' as const,
      path,
      handler: servePage,
    })),
  ];

  return {
    routes,
    async identify(event) {
      if (isApiPath(event.rawPath ?? event.requestContext.http.path))
        callers.set(event, await deps.authenticate(event));
    },
  };
}
