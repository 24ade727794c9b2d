import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { BudgetSpentError, type CallPacer, nextUtcMidnight } from '#lib/gong/pacer.ts';
import { createGongRequester, explainForbidden } from '#lib/gong/requester.ts';
import { createGongClient, STATUS_PATH, STATUS_SCOPE } from '#lib/gong/status-client.ts';

const logger = new Logger({ logLevel: 'SILENT' });
const credentials = async () => ({
  kind: 'basic' as const,
  accessKey: 'k',
  accessKeySecret: 's',
  baseUrl: 'http://gong.invalid',
});
const gongAnswer = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (async () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', ...headers },
    })) as typeof fetch;

describe('nextUtcMidnight', () => {
  it('returns the next 00:00 UTC, also from just before midnight', () => {
    expect(nextUtcMidnight(Date.parse('2026-03-01T12:34:56Z'))).toBe(Date.parse('2026-03-02T00:00:00Z'));
    expect(nextUtcMidnight(Date.parse('2026-12-31T23:59:59.999Z'))).toBe(Date.parse('2027-01-01T00:00:00Z'));
    expect(nextUtcMidnight(Date.parse('2026-03-01T00:00:00Z'))).toBe(Date.parse('2026-03-02T00:00:00Z'));
  });
});

describe('explainForbidden', () => {
  const options = { path: STATUS_PATH, scope: STATUS_SCOPE };

  it('returns the CSM route when Gong says the endpoint is in limited release', () => {
    const body = {
      errors: ['This API endpoint is in Limited release - contact your CSM for more information.'],
    };
    expect(explainForbidden(body, options)).toBe(
      `the endpoint is in limited release: ask your Gong CSM to enable ${STATUS_PATH} for the company`,
    );
  });

  it('returns the missing scope when Gong speaks of scopes or permissions', () => {
    expect(explainForbidden({ errors: ['Missing required scope'] }, options)).toMatch(
      /lack the scope api:meetings:integration:status: ask your Gong admin/,
    );
    expect(
      explainForbidden(
        { errors: ['Insufficient permissions'] },
        { path: '/v2/users', scope: 'api:users:read' },
      ),
    ).toMatch(/api:users:read/);
  });

  it('returns both routes when Gong says neither', () => {
    const text = explainForbidden({ errors: ['Forbidden'] }, options);
    expect(text).toMatch(/^either the endpoint is in limited release.*, or the credentials lack the scope/);
  });
});

describe('createGongRequester (limits)', () => {
  it('returns GONG_BUDGET_SPENT with the seconds until 00:00 UTC when the pacer refuses for the budget', async () => {
    const renewsAt = nextUtcMidnight(Date.now());
    const pacer: CallPacer = {
      acquire: async () => {
        throw new BudgetSpentError({ priority: 'person', budget: 10, used: 10, renewsAt });
      },
      pauseUntil: async () => undefined,
    };
    let called = 0;
    const request = createGongRequester({
      credentials,
      pacer,
      logger,
      fetch: (async () => {
        called++;
        return new Response('{}');
      }) as typeof fetch,
    });

    const response = await request({ method: 'POST', path: STATUS_PATH, deadline: Date.now() + 5_000 });

    expect(called).toBe(0);
    expect(response).toMatchObject({ kind: 'failed', code: 'GONG_BUDGET_SPENT' });
    const seconds = response.kind === 'failed' ? (response.retryAfterSeconds ?? 0) : 0;
    expect(Math.abs(seconds - (renewsAt - Date.now()) / 1000)).toBeLessThan(2);
    expect(response.kind === 'failed' && response.message).toMatch(/GONG_DAILY_BUDGET=10.*00:00 UTC/);
  });

  it('pauses the deployment for Retry-After and counts the call and the 429', async () => {
    const pauses: number[] = [];
    const counted = { calls: 0, rateLimited: 0 };
    const request = createGongRequester({
      credentials,
      pacer: { acquire: async () => Date.now(), pauseUntil: async (until) => void pauses.push(until) },
      logger,
      fetch: gongAnswer(429, { errors: ['API request limit exceeded.'] }, { 'retry-after': '30' }),
      metrics: { gongCall: () => counted.calls++, gongRateLimited: () => counted.rateLimited++ },
    });

    const response = await request({ method: 'POST', path: STATUS_PATH, deadline: Date.now() + 2_000 });

    expect(response).toMatchObject({ kind: 'failed', code: 'GONG_RATE_LIMITED', retryAfterSeconds: 30 });
    expect(pauses).toHaveLength(1);
    expect((pauses[0] ?? 0) - Date.now()).toBeGreaterThan(28_000);
    expect(counted).toEqual({ calls: 1, rateLimited: 1 });
  });

  it('passes the caller priority to the pacer (person by default)', async () => {
    const seen: (string | undefined)[] = [];
    const request = createGongRequester({
      credentials,
      pacer: {
        acquire: async (_deadline, priority) => {
          seen.push(priority);
          return Date.now();
        },
        pauseUntil: async () => undefined,
      },
      logger,
      fetch: gongAnswer(200, { users: [] }),
    });
    const gong = createGongClient({ request, logger });

    await gong.checkBatch(['a@example.com'], { deadline: Date.now() + 2_000 });
    await gong.checkBatch(['a@example.com'], { deadline: Date.now() + 2_000, priority: 'background' });

    expect(seen).toEqual(['person', 'background']);
  });
});

describe('createGongClient (403)', () => {
  it("returns GONG_FORBIDDEN naming the CSM route from Gong's limited-release text", async () => {
    const request = createGongRequester({
      credentials,
      pacer: { acquire: async () => Date.now(), pauseUntil: async () => undefined },
      logger,
      fetch: gongAnswer(403, {
        requestId: 'r403',
        errors: ['This API endpoint is in Limited release - contact your CSM for more information.'],
      }),
    });
    const gong = createGongClient({ request, logger });

    const outcome = await gong.checkBatch(['a@example.com'], { deadline: Date.now() + 2_000 });

    expect(outcome.failures).toMatchObject([{ email: 'a@example.com', code: 'GONG_FORBIDDEN' }]);
    expect(outcome.failures[0]?.message).toMatch(
      /requestId r403.*ask your Gong CSM to enable \/v2\/meetings\/integration\/status/,
    );
  });
});
