import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gongPauseKey } from '#lib/table/keys.ts';
import { type OidcIssuer, startOidcIssuer } from '#local/oidc-issuer.ts';
import { httpEvent, loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type Api = (event: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

const body = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(String(response.body));
/** A cursor in our encoding that we never issued. */
const forged = (key: Record<string, string>) => Buffer.from(JSON.stringify(key)).toString('base64url');

describe('api (built bundle, HTTP API payload v2)', () => {
  let stack: TestStack;
  let issuer: OidcIssuer;
  let env: Record<string, string>;
  let api: Api;
  /** An admin's token: these cases are about what the routes answer, not who may call them. */
  let token: string;
  const post = (payload: string) => api(httpEvent('POST', '/v1/checks', { body: payload, token }));
  const get = (path: string, query?: Record<string, string>) =>
    api(httpEvent('GET', path, query ? { query, token } : { token }));

  beforeAll(async () => {
    [stack, issuer] = await Promise.all([startTestStack({ gong: { rps: 100 } }), startOidcIssuer()]);
    env = {
      ...stack.env,
      GONG_TIMEOUT_MS: '500',
      AUTH_VERIFY: 'local',
      AUTH_ISSUER: issuer.url,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS_URL: issuer.jwksUrl,
    };
    api = loadHandler('api', env) as Api;
    token = await issuer.mint({ email: 'admin@example.com' });
  });
  afterAll(async () => Promise.all([stack?.stop(), issuer?.close()]));
  beforeEach(() => stack.gong.resetStats());

  it('checks users and serves their latest result and history, newest first, page by page', async () => {
    const email = `history-${Date.now()}@example.com`;
    for (let i = 0; i < 3; i++) {
      const response = await post(JSON.stringify({ emails: [email.toUpperCase(), 'grace@example.com'] }));
      expect(response.statusCode).toBe(200);
      expect(body(response).summary).toEqual({ total: 2, valid: 1, invalid: 1, notFound: 0, failed: 0 });
    }

    const latest = await get(`/v1/users/${encodeURIComponent(email)}`);
    expect(latest.statusCode).toBe(200);
    expect(body(latest)).toMatchObject({ email, status: 'OK', valid: true, source: 'api' });

    const first = body(await get(`/v1/users/${email}/history`, { limit: '2' }));
    expect(first.items).toHaveLength(2);
    expect(first.items[0].checkedAt > first.items[1].checkedAt).toBe(true);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = body(await get(`/v1/users/${email}/history`, { limit: '2', cursor: first.nextCursor }));
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeUndefined();
    expect(second.items[0].checkedAt < first.items[1].checkedAt).toBe(true);
  });

  it('answers 404 for a user never checked and for an unknown route, as JSON', async () => {
    const unknown = await get('/v1/users/never-seen@example.com');
    expect(unknown.statusCode).toBe(404);
    expect(body(unknown)).toMatchObject({ error: { code: 'USER_NOT_FOUND' }, requestId: expect.any(String) });
    const route = await get('/v2/nothing');
    expect(route.statusCode).toBe(404);
    expect(body(route).error.code).toBe('NOT_FOUND');
  });

  it('answers 400 naming the problem: bad JSON, bad emails, too many, bad limit, forged cursor', async () => {
    const cases: Array<[Promise<APIGatewayProxyStructuredResultV2>, RegExp]> = [
      [post('{"emails": ['), /not valid JSON/],
      [post(JSON.stringify({ emails: ['ok@example.com', 'nope'] })), /#1 "nope"/],
      [post(JSON.stringify({ emails: [] })), /empty/],
      [post(JSON.stringify({ nothing: true })), /"emails" must be an array/],
      [
        post(JSON.stringify({ emails: Array.from({ length: 1001 }, (_, i) => `u${i}@example.com`) })),
        /1001 .* 1000/,
      ],
      // The entries as sent count: 5,000 copies of one email are 5,000 entries.
      [post(JSON.stringify({ emails: Array(5000).fill('ada@example.com') })), /5000 entries; at most 1000/],
      [
        get('/v1/users/ada@example.com/history', { limit: '0' }),
        /"limit" must be a whole number from 1 to 100/,
      ],
      [get('/v1/users/ada@example.com/history', { cursor: 'Zm9v' }), /"cursor" is not a cursor/],
      [
        get('/v1/users/ada@example.com/history', { cursor: forged({ pk: 'USER#ada@example.com' }) }),
        /"cursor" is not a cursor/,
      ],
      [
        get('/v1/users', { status: 'OK', cursor: forged({ gsi1pk: 'STATUS#OK', sk: 'LATEST' }) }),
        /"cursor" is not a cursor/,
      ],
      [get('/v1/users/not-an-email'), /not an email address/],
      [get('/v1/users', { status: 'BROKEN' }), /"status" must be one of OK, INVALID, NOT_IN_GONG/],
    ];
    for (const [response, message] of cases) {
      const answer = await response;
      expect(answer.statusCode).toBe(400);
      expect(body(answer).error.message).toMatch(message);
    }
    expect(stack.gong.stats.calls).toBe(0);
  });

  it('answers 413 to a body over 1 MB without calling Gong', async () => {
    const response = await post(
      JSON.stringify({ emails: ['ada@example.com'], pad: 'x'.repeat(1024 * 1024) }),
    );
    expect(response.statusCode).toBe(413);
    expect(body(response).error.code).toBe('BODY_TOO_LARGE');
    expect(stack.gong.stats.calls).toBe(0);
  });

  it('answers 502 with the report when Gong fails for every email', async () => {
    stack.gong.injectFault({ kind: 'status', status: 500 }, 4);
    const response = await post(JSON.stringify({ emails: ['ada@example.com'] }));
    expect(response.statusCode).toBe(502);
    const answer = body(response);
    expect(answer.error.code).toBe('GONG_FAILED');
    expect(answer.report.failures).toEqual([expect.objectContaining({ email: 'ada@example.com' })]);
    expect(JSON.stringify(answer)).not.toMatch(/at .*\.js:\d+/);
  });

  it('answers 503 with Retry-After when the rate limit outlasts our retries', async () => {
    stack.gong.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 120 });
    const response = await post(JSON.stringify({ emails: ['ada@example.com'] }));
    expect(response.statusCode).toBe(503);
    expect(response.headers?.['retry-after']).toBe('120');
    expect(body(response).error.code).toBe('GONG_RATE_LIMITED');

    // The container now holds its calls back for those 120 s, as Gong asked: later checks fail fast.
    const held = await post(JSON.stringify({ emails: ['ada@example.com'] }));
    expect(held.statusCode).toBe(503);
    expect(stack.gong.stats.calls).toBe(1);
    // The pause holds every container of the deployment (README › Staying under Gong's limits): lift it
    // so the next case starts with Gong open again.
    await stack.db.send(new DeleteCommand({ TableName: stack.table, Key: gongPauseKey('gong') }));
    api = loadHandler('api', env) as Api;
  });

  it('lists users by current status with the time they entered it', async () => {
    const broken = [`broken-a-${Date.now()}@example.com`, `broken-b-${Date.now()}@example.com`];
    await post(JSON.stringify({ emails: broken }));

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = body(
        await get('/v1/users', { status: 'INVALID', limit: '1', ...(cursor ? { cursor } : {}) }),
      );
      for (const item of page.items) {
        expect(item).toMatchObject({ status: 'INVALID', since: expect.any(String) });
        seen.push(item.email);
      }
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining(broken));
    expect(new Set(seen).size).toBe(seen.length);
  });
});
