import { generateKeyPairSync } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '#local/dynamodb-fault-proxy.ts';
import { type OidcIssuer, startOidcIssuer } from '#local/oidc-issuer.ts';
import { httpEvent, loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type Api = (event: unknown) => Promise<APIGatewayProxyStructuredResultV2>;

const body = (response: APIGatewayProxyStructuredResultV2) => JSON.parse(String(response.body));
const ADA = 'ada@example.com';

/** The same header and claims as `token`, signed with a key the issuer never published. */
async function resignedWithAnotherKey(token: string): Promise<string> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const header = decodeProtectedHeader(token);
  return new SignJWT(decodeJwt(token))
    .setProtectedHeader({ alg: 'RS256', kid: String(header.kid), typ: String(header.typ) })
    .sign(privateKey);
}

/** The token with one character of its signature changed. */
function tamperedSignature(token: string): string {
  const last = token.at(-2) === 'A' ? 'B' : 'A';
  return `${token.slice(0, -2)}${last}${token.slice(-1)}`;
}

describe('api: who may call (README "Who may call")', () => {
  let stack: TestStack;
  let issuer: OidcIssuer;
  /** In front of the table: counts every request api makes to DynamoDB. */
  let proxy: DynamoFaultProxy;
  /** As under npm start: api verifies the bearer token itself (AUTH_VERIFY=local). */
  let local: Api;
  /** As in AWS: api trusts the claims API Gateway's authorizer passed (AUTH_VERIFY unset). */
  let gateway: Api;
  let member: string;
  let admin: string;

  const dynamoRequests = () => proxy.stats().forwarded;

  beforeAll(async () => {
    [stack, issuer] = await Promise.all([
      startTestStack({ gong: { rps: 100 } }),
      startOidcIssuer({ admins: ['boss@example.com'] }),
    ]);
    proxy = await startDynamoFaultProxy({ upstream: stack.dynamo.endpoint });
    const env = { ...stack.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url, GONG_TIMEOUT_MS: '2000' };
    gateway = loadHandler('api', env) as Api;
    local = loadHandler('api', {
      ...env,
      AUTH_VERIFY: 'local',
      AUTH_ISSUER: issuer.url,
      AUTH_AUDIENCE: issuer.audience,
      AUTH_JWKS_URL: issuer.jwksUrl,
    }) as Api;
    member = await issuer.mint({ email: ADA });
    admin = await issuer.mint({ email: 'boss@example.com' });
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all([stack?.stop(), issuer?.close()]);
  });
  beforeEach(() => stack.gong.resetStats());

  describe('tokens (verified by api, as under npm start)', () => {
    it('answers 401 UNAUTHORIZED to no token, a bad signature, another key, a wrong audience and an expired token', async () => {
      const elsewhere = await startOidcIssuer({ audience: 'another-api' });
      try {
        // The same issuer URL as ours is impossible for a second server: this api trusts `elsewhere`
        // as issuer but wants our audience, so only the audience is wrong.
        const strict = loadHandler('api', {
          ...stack.env,
          AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
          AUTH_VERIFY: 'local',
          AUTH_ISSUER: elsewhere.url,
          AUTH_AUDIENCE: issuer.audience,
          AUTH_JWKS_URL: elsewhere.jwksUrl,
        }) as Api;
        const cases: Array<[string, Api, string | undefined, RegExp]> = [
          ['no token', local, undefined, /No bearer token/],
          ['a bad signature', local, tamperedSignature(member), /signature/],
          ['another key, same claims', local, await resignedWithAnotherKey(member), /signature/],
          ['a wrong audience', strict, await elsewhere.mint({ email: ADA }), /not for this API/],
          ['an expired token', local, await issuer.mint({ email: ADA, expiresIn: -60 }), /expired/],
          ['another issuer', local, await elsewhere.mint({ email: ADA }), /another issuer|signature/],
        ];
        const before = dynamoRequests();
        for (const [what, api, token, message] of cases) {
          const response = await api(
            httpEvent('GET', `/v1/users/${ADA}`, token === undefined ? {} : { token }),
          );
          expect(response.statusCode, what).toBe(401);
          expect(body(response), what).toMatchObject({
            error: { code: 'UNAUTHORIZED', message: expect.stringMatching(message) },
            requestId: expect.any(String),
          });
          expect(response.headers?.['www-authenticate'], what).toBe('Bearer');
        }
        expect(dynamoRequests()).toBe(before);
        expect(stack.gong.stats.calls).toBe(0);
      } finally {
        await elsewhere.close();
      }
    });

    it('ignores the claims serverless-offline decoded: only the verified token counts', async () => {
      // serverless-offline fills requestContext.authorizer.jwt from any token, signed or not.
      const forged = await resignedWithAnotherKey(admin);
      const response = await local(
        httpEvent('GET', '/v1/users', {
          token: forged,
          query: { status: 'OK' },
          claims: { sub: 'boss@example.com', scope: 'gong-status/admin' },
        }),
      );
      expect(response.statusCode).toBe(401);
    });

    it('lets a member check and read their own email', async () => {
      const check = await local(
        httpEvent('POST', '/v1/checks', {
          token: member,
          body: JSON.stringify({ emails: [' Ada@Example.com'] }),
        }),
      );
      expect(check.statusCode).toBe(200);
      expect(body(check).summary).toMatchObject({ total: 1, valid: 1 });
      const latest = await local(
        httpEvent('GET', `/v1/users/${encodeURIComponent('ADA@example.com')}`, { token: member }),
      );
      expect(latest.statusCode).toBe(200);
      expect(body(latest)).toMatchObject({ email: ADA, status: 'OK' });
      const history = await local(httpEvent('GET', `/v1/users/${ADA}/history`, { token: member }));
      expect(history.statusCode).toBe(200);
      expect(body(history).items.length).toBeGreaterThanOrEqual(1);
    });

    it('answers 403 FORBIDDEN to a member asking about others or for listings, with no Gong call and no read', async () => {
      const asks = [
        httpEvent('POST', '/v1/checks', {
          token: member,
          body: JSON.stringify({ emails: ['grace@example.com'] }),
        }),
        httpEvent('POST', '/v1/checks', {
          token: member,
          body: JSON.stringify({ emails: [ADA, 'grace@example.com'] }),
        }),
        httpEvent('GET', '/v1/users/grace@example.com', { token: member }),
        httpEvent('GET', '/v1/users/grace@example.com/history', { token: member }),
        httpEvent('GET', '/v1/users', { token: member, query: { status: 'OK' } }),
      ];
      const before = dynamoRequests();
      for (const ask of asks) {
        const response = await local(ask);
        expect(response.statusCode, ask.rawPath).toBe(403);
        expect(body(response).error.code).toBe('FORBIDDEN');
      }
      expect(stack.gong.stats.calls).toBe(0);
      expect(dynamoRequests()).toBe(before);
    });

    it('lets an admin (LOCAL_ADMINS, or minted --admin) call every route', async () => {
      const minted = await issuer.mint({ email: 'ops@example.com', admin: true });
      for (const token of [admin, minted]) {
        const list = await local(httpEvent('GET', '/v1/users', { token, query: { status: 'OK' } }));
        expect(list.statusCode).toBe(200);
        const other = await local(
          httpEvent('POST', '/v1/checks', { token, body: JSON.stringify({ emails: ['grace@example.com'] }) }),
        );
        expect(other.statusCode).toBe(200);
      }
    });

    it('answers an unknown route or method with our JSON 404, and a bad body to a member with 400 before anything is read', async () => {
      for (const event of [
        httpEvent('GET', '/v2/nothing'),
        httpEvent('GET', '/'),
        httpEvent('GET', '/v1/nothing', { token: member }),
        httpEvent('DELETE', '/v1/users', { token: admin }),
      ]) {
        const response = await local(event);
        expect(response.statusCode, event.rawPath).toBe(404);
        expect(body(response)).toMatchObject({ error: { code: 'NOT_FOUND' }, requestId: expect.any(String) });
      }
      // Under /v1, who is calling is settled first: no token, no hint of which routes exist.
      expect((await local(httpEvent('GET', '/v1/nothing'))).statusCode).toBe(401);
    });
  });

  describe('claims (verified by API Gateway, as in AWS)', () => {
    it('answers 401 to a /v1/* event without authorizer claims, whatever its Authorization header says', async () => {
      // A route deployed without the JWT authorizer (or the catch-all) carries no requestContext.authorizer.
      for (const event of [
        httpEvent('GET', '/v1/users', { query: { status: 'OK' } }),
        httpEvent('GET', '/v1/users', { query: { status: 'OK' }, token: admin }),
        httpEvent('POST', '/v1/checks', { token: admin, body: JSON.stringify({ emails: [ADA] }) }),
      ]) {
        const response = await gateway(event);
        expect(response.statusCode).toBe(401);
        expect(body(response).error.code).toBe('UNAUTHORIZED');
      }
      expect(stack.gong.stats.calls).toBe(0);
    });

    it('makes an admin by the gong-status/admin scope and by the gong-status-admins group', async () => {
      const byScope = { sub: 'svc-client', client_id: 'svc-client', scope: 'gong-status/admin' };
      const byCognitoGroup = {
        sub: 'u-1',
        email: 'boss@example.com',
        'cognito:groups': '[gong-status-admins]',
      };
      const byGroups = { sub: 'u-2', email: 'boss@example.com', groups: '[gong-status-admins other]' };
      for (const claims of [byScope, byCognitoGroup, byGroups]) {
        const response = await gateway(httpEvent('GET', '/v1/users', { claims, query: { status: 'OK' } }));
        expect(response.statusCode, JSON.stringify(claims)).toBe(200);
      }
    });

    it('keeps a member (no admin scope or group) to their own email', async () => {
      const claims = {
        sub: 'u-3',
        email: 'Ada@example.com',
        'cognito:groups': '[readers]',
        scope: 'openid email',
      };
      expect((await gateway(httpEvent('GET', `/v1/users/${ADA}`, { claims }))).statusCode).toBe(200);
      const before = dynamoRequests();
      expect((await gateway(httpEvent('GET', '/v1/users/grace@example.com', { claims }))).statusCode).toBe(
        403,
      );
      expect(
        (await gateway(httpEvent('GET', '/v1/users', { claims, query: { status: 'OK' } }))).statusCode,
      ).toBe(403);
      // A Cognito access token has no email: such a member may do nothing.
      const noEmail = { sub: 'u-4', client_id: 'people', scope: 'openid' };
      expect((await gateway(httpEvent('GET', `/v1/users/${ADA}`, { claims: noEmail }))).statusCode).toBe(403);
      expect(dynamoRequests()).toBe(before);
    });
  });
});
