import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckReport } from '#lib/check/report.ts';
import { gongPauseKey } from '#lib/table/keys.ts';
import { startDynamoFaultProxy } from '#local/dynamodb-fault-proxy.ts';
import { GONG_SECRET_ID, loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type CheckStatus = (event: unknown, context?: { timeoutMs?: number }) => Promise<CheckReport>;

const emails = (count: number, prefix = 'rep') =>
  Array.from(
    { length: count },
    (_, i) => `${prefix}${i}-${Math.random().toString(36).slice(2, 7)}@example.com`,
  );

describe('checkStatus (built bundle, loopback Gong, Secrets Manager and DynamoDB)', () => {
  let stack: TestStack;
  let checkStatus: CheckStatus;

  beforeAll(async () => {
    stack = await startTestStack({ gong: { rps: 100 } });
  });
  afterAll(async () => stack?.stop());
  beforeEach(() => {
    stack.gong.resetStats();
    checkStatus = loadHandler('checkStatus', { ...stack.env, GONG_TIMEOUT_MS: '500' }) as CheckStatus;
  });

  it("asks Gong while a batch's read of what we knew is still on its way, and compares with it", async () => {
    const proxy = await startDynamoFaultProxy({ upstream: stack.dynamo.endpoint });
    try {
      const check = loadHandler('checkStatus', {
        ...stack.env,
        AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
        GONG_TIMEOUT_MS: '2000',
      }) as CheckStatus;
      const asked = emails(150, 'slow-read');
      await check({ emails: asked, source: 'first' });
      // Every BatchGetItem (a batch's read of what we knew) now takes 800 ms; the pacer's own
      // reads and claims are not slowed.
      proxy.setFaults([{ kind: 'delay', operations: ['BatchGetItem'], delayMs: 800 }]);
      stack.gong.resetStats();
      const startedAt = Date.now();

      const report = await check({ emails: asked, source: 'again' });

      const firstCall = Math.min(...stack.gong.stats.arrivals.map((arrival) => arrival.at));
      expect(stack.gong.stats.calls).toBe(2);
      expect(firstCall - startedAt).toBeLessThan(800);
      // It still knew every user from the first check: nothing changed, everything stored.
      expect(report.results).toHaveLength(150);
      expect(report.results.filter((result) => result.changed === false)).toHaveLength(150);
      expect(report.results.filter((result) => result.stored === false)).toEqual([]);

      // New users whose read came back only after Gong answered: "absent" may no longer hold at
      // the answer's time, so each create looks at the user's history (README › Storage).
      const queriesBefore = proxy.stats().requests.Query ?? 0;
      const fresh = await check({ emails: emails(100, 'slow-new'), source: 'again' });
      expect(fresh.results.filter((result) => result.stored === false)).toEqual([]);
      expect((proxy.stats().requests.Query ?? 0) - queriesBefore).toBe(100);
    } finally {
      await proxy.close();
    }
  });

  it('checks 250 emails in 3 Gong calls and accounts for every one', async () => {
    const asked = [...emails(247), 'grace@example.com', 'nobody@example.com', ' Ada@Example.COM '];

    const report = await checkStatus({ emails: asked, source: 'billing-service' });

    expect(stack.gong.stats.calls).toBe(3);
    expect([...stack.gong.stats.emailsPerCall].sort((a, b) => a - b)).toEqual([50, 100, 100]);
    expect(report.results).toHaveLength(250);
    expect(report.failures).toEqual([]);
    expect(report.summary).toEqual({ total: 250, valid: 248, invalid: 1, notFound: 1, failed: 0 });
    const grace = report.results.find((r) => r.email === 'grace@example.com');
    expect(grace).toMatchObject({ exists: true, valid: false, status: 'INVALID' });
    expect(grace?.fixUrl).toMatch(/^https:\/\//);
    expect(grace?.gongRequestId).toMatch(/\w+/);
    expect(report.results.map((r) => r.email)).toContain('ada@example.com');
  });

  it('reads the Gong secret once across invocations of one container', async () => {
    const before = stack.secrets.getCalls(GONG_SECRET_ID);
    await checkStatus({ emails: ['ada@example.com'] });
    await checkStatus({ emails: ['grace@example.com'] });
    await checkStatus({ emails: ['nobody@example.com'] });
    expect(stack.secrets.getCalls(GONG_SECRET_ID) - before).toBe(1);
  });

  it('fails with a ValidationError naming the bad entries before calling Gong', async () => {
    const attempt = checkStatus({ emails: ['ada@example.com', 'not-an-email', 42] });
    await expect(attempt).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(attempt).rejects.toThrow(/#1 "not-an-email", #2 \(number\)/);
    await expect(checkStatus({ emails: [] })).rejects.toMatchObject({ name: 'ValidationError' });
    await expect(checkStatus({})).rejects.toThrow(/"emails" must be an array/);
    expect(stack.gong.stats.calls).toBe(0);
  });

  it('refuses more than 10,000 entries as sent, duplicates included, before calling Gong', async () => {
    const copies = checkStatus({ emails: Array(10_001).fill('ada@example.com') });
    await expect(copies).rejects.toMatchObject({ name: 'ValidationError', code: 'EMAILS_TOO_MANY' });
    await expect(copies).rejects.toThrow(/10001 entries; at most 10000/);
    expect(stack.gong.stats.calls).toBe(0);
  });

  it('says which secret could not be read, and why, without the role ARN or account id Secrets Manager named', async () => {
    const role = 'arn:aws:sts::123456789012:assumed-role/gong-status-dev-api/gong-status-dev-api';
    stack.secrets.denyAccess(GONG_SECRET_ID, role);
    try {
      const report = await checkStatus({ emails: ['ada@example.com'] });
      expect(report.failures[0]).toMatchObject({ code: 'GONG_CREDENTIALS' });
      expect(report.failures[0]?.message).toMatch(/could not read secret gong-status\/gong: access denied/i);
      expect(JSON.stringify(report)).not.toMatch(/arn:|123456789012|AccessDeniedException/);
      expect(stack.gong.stats.calls).toBe(0);
    } finally {
      stack.secrets.denyAccess(GONG_SECRET_ID, undefined);
    }
  });

  it('marks previousValid and changed against the last stored result', async () => {
    const email = `flip-${Date.now()}@example.com`;
    const first = await checkStatus({ emails: [email] });
    expect(first.results[0]).not.toHaveProperty('previousValid');
    stack.gong.setUser({
      email,
      exists: true,
      valid: false,
      userFacingError: 'broken',
      fixUrl: 'https://fix',
    });

    const second = await checkStatus({ emails: [email] });

    expect(second.results[0]).toMatchObject({ previousValid: true, changed: true, status: 'INVALID' });
    const third = await checkStatus({ emails: [email] });
    expect(third.results[0]).toMatchObject({ previousValid: false, changed: false });
  });

  it('retries a 429 after Retry-After and a 500 with backoff, losing nothing', async () => {
    stack.gong.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 1 });
    stack.gong.injectFault({ kind: 'status', status: 500 });

    const report = await checkStatus({ emails: emails(150) });

    expect(report.results).toHaveLength(150);
    expect(report.failures).toEqual([]);
    expect(stack.gong.stats.byStatus[429]).toBe(1);
    expect(stack.gong.stats.byStatus[500]).toBe(1);
  });

  it('fails only the garbled batch when Gong answers in the wrong shape', async () => {
    stack.gong.injectFault({ kind: 'garbage' });

    const report = await checkStatus({ emails: emails(150) });

    expect(report.results.length + report.failures.length).toBe(150);
    expect(report.failures.length === 100 || report.failures.length === 50).toBe(true);
    expect(new Set(report.failures.map((f) => f.code))).toEqual(new Set(['GONG_BAD_RESPONSE']));
  });

  it('turns an email Gong left out of its answer into a failure for that email', async () => {
    const asked = emails(5);
    stack.gong.injectFault({ kind: 'omit', emails: [asked[2] as string] });

    const report = await checkStatus({ emails: asked });

    expect(report.results.map((r) => r.email)).toEqual(asked.filter((_, i) => i !== 2));
    expect(report.failures).toEqual([
      expect.objectContaining({ email: asked[2], code: 'GONG_INCOMPLETE_ANSWER' }),
    ]);
  });

  it('gives up on a hanging Gong after its retries, within the timeout budget', async () => {
    stack.gong.injectFault({ kind: 'hang' }, 4);
    const started = Date.now();

    const report = await checkStatus({ emails: ['ada@example.com'] });

    expect(report.failures).toEqual([expect.objectContaining({ code: 'GONG_UNAVAILABLE' })]);
    expect(report.failures[0]?.message).toMatch(/no answer within 500 ms/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('recovers from a dropped connection', async () => {
    stack.gong.injectFault({ kind: 'reset' });
    const report = await checkStatus({ emails: ['ada@example.com'] });
    expect(report.summary.valid).toBe(1);
  });

  it('fails fast with GONG_RATE_LIMITED when Retry-After outlasts the invocation', async () => {
    stack.gong.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 3600 });
    const started = Date.now();

    const report = await checkStatus({ emails: ['ada@example.com'] });

    expect(report.failures).toEqual([
      expect.objectContaining({ code: 'GONG_RATE_LIMITED', retryAfterSeconds: 3600 }),
    ]);
    expect(Date.now() - started).toBeLessThan(5_000);
    // The next check meets the pause before calling: a rate limit, said as such (not the budget).
    const next = await checkStatus({ emails: ['grace@example.com'] });
    expect(next.failures).toEqual([expect.objectContaining({ code: 'GONG_RATE_LIMITED' })]);
    expect(next.failures[0]?.message).toMatch(
      /^Could not call POST \/v2\/meetings\/integration\/status: no Gong call slot before the deadline/,
    );
    // The pause holds every container of the deployment (README › Staying under Gong's limits): lift it
    // for the tests that follow, which share the table.
    await stack.db.send(new DeleteCommand({ TableName: stack.table, Key: gongPauseKey('gong') }));
  });

  it('says the endpoint is in limited release on 403', async () => {
    stack.gong.injectFault({ kind: 'status', status: 403 });
    const report = await checkStatus({ emails: ['ada@example.com'] });
    expect(report.failures[0]).toMatchObject({ code: 'GONG_FORBIDDEN' });
    expect(report.failures[0]?.message).toMatch(/limited release/);
  });

  it('does not retry a 400 (our bug) and keeps Gong requestId in the message', async () => {
    stack.gong.injectFault({ kind: 'status', status: 400, errors: ['bad emails field'] });
    const report = await checkStatus({ emails: ['ada@example.com'] });
    expect(report.failures[0]).toMatchObject({ code: 'GONG_BAD_REQUEST' });
    expect(report.failures[0]?.message).toMatch(/Gong answered 400 .*requestId \w+.*bad emails field/);
    expect(stack.gong.stats.calls).toBe(1);
  });

  it('re-reads a rotated secret once after a 401, and reports GONG_AUTH when it is still refused', async () => {
    const good = JSON.stringify({
      accessKey: 'sandbox-key',
      accessKeySecret: 'sandbox-secret',
      baseUrl: stack.gong.url,
    });
    const stale = JSON.stringify({
      accessKey: 'sandbox-key',
      accessKeySecret: 'old-secret',
      baseUrl: stack.gong.url,
    });
    stack.secrets.setSecret(GONG_SECRET_ID, stale);
    try {
      const refused = await checkStatus({ emails: ['ada@example.com'] });
      expect(refused.failures[0]).toMatchObject({ code: 'GONG_AUTH' });
      expect(JSON.stringify(refused)).not.toContain('old-secret');

      stack.secrets.setSecret(GONG_SECRET_ID, good);
      const rotated = await checkStatus({ emails: ['ada@example.com'] });
      expect(rotated.summary.valid).toBe(1);
    } finally {
      stack.secrets.setSecret(GONG_SECRET_ID, good);
    }
  });

  it('accounts for every email as a failure, without throwing, when the table is missing', async () => {
    const broken = loadHandler('checkStatus', {
      ...stack.env,
      HISTORY_TABLE: 'no-such-table',
    }) as CheckStatus;

    const report = await broken({ emails: ['ada@example.com', 'grace@example.com'] });

    expect(report.results).toEqual([]);
    expect(report.failures.map((f) => [f.email, f.code])).toEqual([
      ['ada@example.com', 'GONG_UNAVAILABLE'],
      ['grace@example.com', 'GONG_UNAVAILABLE'],
    ]);
    expect(report.failures[0]?.message).toMatch(/Could not take a Gong call slot/);
    expect(stack.gong.stats.calls).toBe(0);
  });

  it('names the secret and never its value when the secret is garbled', async () => {
    stack.secrets.setSecret(GONG_SECRET_ID, '{"accessKey":"AKIA-SHOULD-NOT-LEAK"');
    try {
      const report = await checkStatus({ emails: ['ada@example.com'] });
      expect(report.failures[0]).toMatchObject({ code: 'GONG_CREDENTIALS' });
      expect(report.failures[0]?.message).toContain(GONG_SECRET_ID);
      expect(JSON.stringify(report)).not.toContain('AKIA-SHOULD-NOT-LEAK');
    } finally {
      stack.secrets.setSecret(
        GONG_SECRET_ID,
        JSON.stringify({
          accessKey: 'sandbox-key',
          accessKeySecret: 'sandbox-secret',
          baseUrl: stack.gong.url,
        }),
      );
    }
  });
});
