import { gunzipSync } from 'node:zlib';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHistoryStore } from '#lib/history/history-store.ts';
import type { SweepAnswer } from '#lib/sweep/sweep.ts';
import { createSweepStore } from '#lib/sweep/sweep-store.ts';
import { CALENDAR_PROBLEM, CONSENT_PAGE_PROBLEM } from '#local/gong-sandbox/users.ts';
import { type OidcIssuer, startOidcIssuer } from '#local/oidc-issuer.ts';
import { DEFAULT_BOT_TOKEN, type SlackApiStandIn, startSlackApi } from '#local/slack-api.ts';
import { httpEvent, loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type Api = (event: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

const body = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(String(response.body));
/** More broken users than one page of the status index (1000), so every route must read on. */
const BROKEN = 1_100;
const brokenEmails = Array.from(
  { length: BROKEN },
  (_, i) => `broken${String(i).padStart(4, '0')}@example.com`,
);
const QUOTED = {
  email: 'quoted@example.com',
  exists: true,
  valid: false,
  userFacingError: 'Gong says "no", twice,\r\nthen stops',
  fixUrl: 'https://us-12345.app.gong.io/settings/personal/calendar?a=1,2',
};
const PAGE = { PAGE_CLIENT_ID: 'gong-status-page' };
const DAY_MS = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY_MS).toISOString().slice(0, 10);

describe('team reads of the api (built bundle): problems, CSV, daily stats, the page', () => {
  let stack: TestStack;
  let issuer: OidcIssuer;
  let env: Record<string, string>;
  let api: Api;
  let admin: string;
  let member: string;
  const get = (
    path: string,
    query?: Record<string, string>,
    headers?: Record<string, string>,
    token: string | undefined = admin,
  ) =>
    api(
      httpEvent('GET', path, {
        ...(query ? { query } : {}),
        ...(headers ? { headers } : {}),
        ...(token ? { token } : {}),
      }),
    );

  beforeAll(async () => {
    [stack, issuer] = await Promise.all([
      startTestStack({ gong: { rps: 200, burst: 200, users: [QUOTED] } }),
      startOidcIssuer(),
    ]);
    env = {
      ...stack.env,
      AUTH_VERIFY: 'local',
      AUTH_ISSUER: issuer.url,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS_URL: issuer.jwksUrl,
      ...PAGE,
    };
    api = loadHandler('api', env) as Api;
    admin = await issuer.mint({ email: 'admin@example.com' });
    member = await issuer.mint({ email: 'grace@example.com' });
    // The many through the store itself (a check of 1,100 through api is slow on a loaded machine), the
    // few with Gong's own answers through api.
    const store = createHistoryStore({ db: stack.db, table: stack.table });
    const checkedAt = new Date(Date.now() - 60_000).toISOString();
    const unstored = await store.record(
      brokenEmails.map((email) => ({
        email,
        exists: true,
        valid: false,
        status: 'INVALID' as const,
        ...CONSENT_PAGE_PROBLEM,
        checkedAt,
        gongRequestId: 'seed',
      })),
      { source: 'seed', requestId: 'seed', previous: new Map() },
    );
    expect(unstored.size).toBe(0);
    const everyone = [
      'ada@example.com',
      'grace@example.com',
      'linus@example.com',
      'nobody@example.com',
      'unknown1@example.com',
      QUOTED.email,
    ];
    for (let i = 0; i < everyone.length; i += 1000) {
      const response = await api(
        httpEvent('POST', '/v1/checks', {
          body: JSON.stringify({ emails: everyone.slice(i, i + 1000) }),
          token: admin,
        }),
      );
      expect(response.statusCode).toBe(200);
    }
  }, 180_000);
  afterAll(async () => Promise.all([stack?.stop(), issuer?.close()]));

  it('answers 401 without a token and 403 to a member for problems, stats and the CSV, reading nothing', async () => {
    const routes: Array<[string, Record<string, string> | undefined]> = [
      ['/v1/problems', undefined],
      ['/v1/stats/daily', { days: '30' }],
      ['/v1/users', { status: 'INVALID', format: 'csv' }],
    ];
    for (const [path, query] of routes) {
      const anonymous = await get(path, query, undefined, '');
      expect(anonymous.statusCode, path).toBe(401);
      expect(body(anonymous).error.code).toBe('UNAUTHORIZED');
      const asMember = await get(path, query, undefined, member);
      expect(asMember.statusCode, path).toBe(403);
      expect(body(asMember).error).toMatchObject({
        code: 'FORBIDDEN',
        message: expect.stringContaining('admins'),
      });
    }
  });

  it('groups broken users by cause, company-wide causes as one problem with its count, biggest first', async () => {
    const response = await get('/v1/problems');

    expect(response.statusCode).toBe(200);
    const { problems } = body(response);
    expect(problems.map((p: { count: number }) => p.count)).toEqual([BROKEN + 1, 2, 1, 1]);
    expect(problems[0]).toMatchObject({
      scope: 'company',
      message: CONSENT_PAGE_PROBLEM.userFacingError,
      fixUrl: CONSENT_PAGE_PROBLEM.fixUrl,
      since: expect.any(String),
    });
    expect(problems[0].emails).toHaveLength(100);
    expect(problems[1]).toMatchObject({
      scope: 'user',
      emails: ['nobody@example.com', 'unknown1@example.com'],
    });
    expect(
      problems
        .slice(2)
        .map((p: { message: string }) => p.message)
        .sort(),
    ).toEqual([CALENDAR_PROBLEM.userFacingError, QUOTED.userFacingError].sort());
  });

  it('streams every user of a status as gzip CSV: header, RFC 4180 quoting, CRLF, all pages', async () => {
    const response = await get(
      '/v1/users',
      { status: 'INVALID', format: 'csv' },
      { 'accept-encoding': 'gzip' },
    );

    expect(response.statusCode).toBe(200);
    expect(response.headers).toMatchObject({
      'content-type': 'text/csv; charset=utf-8',
      'content-encoding': 'gzip',
      'content-disposition': expect.stringMatching(
        /^attachment; filename="gong-status-INVALID-\d{4}-\d\d-\d\d\.csv"$/,
      ),
    });
    expect(response.isBase64Encoded).toBe(true);
    const text = gunzipSync(Buffer.from(String(response.body), 'base64')).toString('utf8');
    expect(text.startsWith('email,status,since,checkedAt,userFacingError,fixUrl\r\n')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    const quoted = text.split('\r\n').findIndex((line) => line.startsWith(QUOTED.email));
    const [line, next] = text.split('\r\n').slice(quoted, quoted + 2);
    expect(`${line}\r\n${next}`).toMatch(
      /^quoted@example\.com,INVALID,[^,]+,[^,]+,"Gong says ""no"", twice,\r\nthen stops","https:\/\/us-12345\.app\.gong\.io\/settings\/personal\/calendar\?a=1,2"$/,
    );
    for (const email of [...brokenEmails, 'grace@example.com', 'linus@example.com']) {
      expect(text).toContain(`\r\n${email},INVALID,`);
    }
    // Header, every INVALID user, and the quoted field's own CRLF.
    expect(text.split('\r\n').length - 1).toBe(1 + BROKEN + 3 + 1);
  });

  it('answers plain CSV to a caller that does not accept gzip', async () => {
    const response = await get('/v1/users', { status: 'NOT_IN_GONG', format: 'csv' });

    expect(response.statusCode).toBe(200);
    expect(response.isBase64Encoded).toBe(false);
    expect(response.headers?.['content-encoding']).toBeUndefined();
    expect(String(response.body).split('\r\n')).toEqual([
      'email,status,since,checkedAt,userFacingError,fixUrl',
      expect.stringMatching(/^nobody@example\.com,NOT_IN_GONG,[^,]+,[^,]+,,$/),
      expect.stringMatching(/^unknown1@example\.com,NOT_IN_GONG,/),
      '',
    ]);
  });

  it('answers 400 naming the parameter: bad format, bad status, bad days', async () => {
    const cases: Array<[Promise<APIGatewayProxyStructuredResultV2>, RegExp]> = [
      [get('/v1/users', { status: 'OK', format: 'xml' }), /"format" must be json or csv/],
      [get('/v1/users', { format: 'csv' }), /"status" must be one of/],
      [get('/v1/stats/daily', { days: '0' }), /"days" must be a whole number from 1 to 400/],
      [get('/v1/stats/daily', { days: '401' }), /"days"/],
      [get('/v1/stats/daily', { days: 'ten' }), /"days"/],
    ];
    for (const [pending, message] of cases) {
      const response = await pending;
      expect(response.statusCode).toBe(400);
      expect(body(response).error).toMatchObject({
        code: 'BAD_PARAMETER',
        message: expect.stringMatching(message),
      });
    }
  });

  it('serves the page shell with its config and policy, and its hashed assets, with no token', async () => {
    const shell = await get('/', undefined, undefined, '');

    expect(shell.statusCode).toBe(200);
    expect(shell.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': expect.stringContaining('connect-src'),
    });
    const html = String(shell.body);
    expect(html).toContain(`{"authority":"${issuer.url}","clientId":"gong-status-page"}`);
    const script = html.match(/src="(app\.[0-9a-f]{12}\.js)"/)?.[1];
    const style = html.match(/href="(app\.[0-9a-f]{12}\.css)"/)?.[1];
    const js = await get(`/${script}`, undefined, undefined, '');
    expect(js.statusCode).toBe(200);
    expect(js.headers?.['cache-control']).toContain('immutable');
    expect(String(js.body).length).toBeGreaterThan(10_000);
    expect((await get(`/${style}`)).headers?.['content-type']).toBe('text/css; charset=utf-8');
    const zipped = await get(`/${script}`, undefined, { 'accept-encoding': 'gzip, br' });
    expect(zipped).toMatchObject({ isBase64Encoded: true, headers: { 'content-encoding': 'gzip' } });
    expect(gunzipSync(Buffer.from(String(zipped.body), 'base64')).toString('utf8')).toBe(js.body);
    expect(String(zipped.body).length).toBeLessThan(String(js.body).length / 2);
    expect((await get('/app.000000000000.js')).statusCode).toBe(404);
  });

  it('serves no page, and says which variable is missing, when PAGE_CLIENT_ID is unset', async () => {
    const { PAGE_CLIENT_ID: _unset, ...withoutPage } = env;
    const bare = loadHandler('api', withoutPage) as Api;

    const response = await bare(httpEvent('GET', '/'));

    expect(response.statusCode).toBe(404);
    expect(body(response).error).toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining('PAGE_CLIENT_ID'),
    });
    api = loadHandler('api', env) as Api;
  });
});

describe('GET /v1/stats/daily (built api and sweep bundles)', () => {
  let stack: TestStack;
  let issuer: OidcIssuer;
  let slack: SlackApiStandIn;
  let api: Api;
  let admin: string;
  let swept: SweepAnswer;
  const get = (query?: Record<string, string>) =>
    api(httpEvent('GET', '/v1/stats/daily', { ...(query ? { query } : {}), token: admin }));

  beforeAll(async () => {
    [stack, issuer, slack] = await Promise.all([
      startTestStack({ gong: { rps: 100 } }),
      startOidcIssuer(),
      startSlackApi(),
    ]);
    api = loadHandler('api', {
      ...stack.env,
      AUTH_VERIFY: 'local',
      AUTH_ISSUER: issuer.url,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS_URL: issuer.jwksUrl,
    }) as Api;
    admin = await issuer.mint({ email: 'admin@example.com' });
    const emails = ['ada@example.com', 'grace@example.com', 'linus@example.com', 'nobody@example.com'];
    const check = await api(
      httpEvent('POST', '/v1/checks', { body: JSON.stringify({ emails }), token: admin }),
    );
    expect(check.statusCode).toBe(200);
    // Two earlier days as earlier sweeps left them, one outside every window the route allows.
    const sweeps = createSweepStore({ db: stack.db, table: stack.table });
    await sweeps.saveDailyStats({ date: day(-2), ok: 5, invalid: 1, notInGong: 0 });
    await sweeps.saveDailyStats({ date: day(-401), ok: 9, invalid: 9, notInGong: 9 });
    // Then today's sweep, the built bundle: it stores today's counts when it finishes.
    const sweep = loadHandler('sweep', {
      ...stack.env,
      ALERT_CHANNEL: 'C0ALERTS',
      SLACK_BOT_TOKEN: DEFAULT_BOT_TOKEN,
      SLACK_API_URL: slack.url,
      SWEEP_FUNCTION: 'gong-status-test-sweep',
    }) as (event: unknown) => Promise<SweepAnswer>;
    swept = await sweep({});
  }, 120_000);
  afterAll(async () => Promise.all([stack?.stop(), issuer?.close(), slack?.close()]));

  it('serves the daily counts the sweep stored, oldest first, within the days asked', async () => {
    expect(swept).toMatchObject({ done: true, checked: 4 });

    const three = await get({ days: '3' });
    const fallback = await get();
    const all = await get({ days: '400' });

    expect(three.statusCode).toBe(200);
    const today = { date: day(0), ok: 1, invalid: 2, notInGong: 1 };
    expect(body(three)).toEqual({ days: [{ date: day(-2), ok: 5, invalid: 1, notInGong: 0 }, today] });
    expect(body(fallback)).toEqual(body(three));
    expect(body(all).days.map((d: { date: string }) => d.date)).toEqual([day(-2), day(0)]);
    expect(body(await get({ days: '1' })).days).toEqual([today]);
  });
});
