import { randomBytes, randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RecheckSummary } from '#lib/crm/recheck-pending.ts';
import { httpEvent, loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type HttpResult = { statusCode: number; headers?: Record<string, string>; body: string };
type HttpHandler = (event: unknown) => Promise<HttpResult>;
type Recheck = (event: unknown) => Promise<RecheckSummary>;

const CRM_SECRET_ID = 'gong-status/crm-webhook';
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}@example.com`;
const userCreated = (email: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'user.created', timestamp: new Date().toISOString(), data: { email, ...extra } });

/** A delivery signed as the Standard Webhooks reference library signs it. */
function delivery(
  body: string,
  options: { id?: string; at?: Date; key?: string; signature?: string; omit?: string } = {},
) {
  const id = options.id ?? `msg_${randomUUID()}`;
  const at = options.at ?? new Date();
  const headers: Record<string, string> = {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': options.signature ?? new Webhook(options.key ?? secret).sign(id, at, body),
  };
  if (options.omit) delete headers[options.omit];
  return httpEvent('POST', '/webhooks/crm/user-created', { body, headers });
}

describe('crmWebhook (built bundle, loopback Gong, Secrets Manager and DynamoDB)', () => {
  let stack: TestStack;
  let env: Record<string, string>;
  let crmWebhook: HttpHandler;

  const query = async (input: Record<string, unknown>) =>
    (await stack.db.send(new QueryCommand({ TableName: stack.table, ...input } as never))).Items ?? [];
  const userItems = (email: string) =>
    query({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `USER#${email}` } });
  const historyItems = async (email: string) =>
    (await userItems(email)).filter((item) => String(item.sk).startsWith('CHECK#'));
  const idempotencyRecords = () =>
    query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'idempotency#crmWebhook' },
      ConsistentRead: true,
    });
  const pendingUsers = () =>
    query({
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pending',
      ExpressionAttributeValues: { ':pending': 'PENDING' },
    });

  beforeAll(async () => {
    stack = await startTestStack({ gong: { rps: 1000, burst: 1000 } });
    stack.secrets.setSecret(CRM_SECRET_ID, JSON.stringify({ signingSecret: secret }));
    env = { ...stack.env, CRM_WEBHOOK_SECRET_ID: CRM_SECRET_ID };
  });
  afterAll(async () => stack?.stop());
  beforeEach(() => {
    stack.gong.resetStats();
    crmWebhook = loadHandler('crmWebhook', env) as HttpHandler;
  });

  it('returns 200 with the checked user and stores the result when the delivery is signed', async () => {
    const email = unique('new-rep');

    const response = await crmWebhook(delivery(userCreated(email.toUpperCase(), { userId: '005xx01' })));

    expect(response.statusCode).toBe(200);
    const body = JSON.parse(response.body);
    expect(body).toMatchObject({ email, userId: '005xx01', pending: false });
    expect(body.result).toMatchObject({ email, exists: true, valid: true, status: 'OK' });
    expect(stack.gong.stats.calls).toBe(1);
    const history = await historyItems(email);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ source: 'crm', status: 'OK' });
  });

  it.each([
    [
      'Title-Case',
      (name: string) => name.replace(/(^|-)([a-z])/g, (_m, dash, c) => `${dash}${c.toUpperCase()}`),
    ],
    ['UPPER-CASE', (name: string) => name.toUpperCase()],
  ])('returns 200 when a direct event names the signature headers in %s', async (_case, rename) => {
    const email = unique('mixed-case');
    const event = delivery(userCreated(email));
    // A direct invocation (not through API Gateway, which lower-cases) keeps the sender's spelling.
    (event as { headers: Record<string, string> }).headers = Object.fromEntries(
      Object.entries(event.headers).map(([name, value]) => [rename(name), value]),
    );
    expect(Object.keys(event.headers)).toContain(rename('webhook-id'));

    const response = await crmWebhook(event);

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ email, result: { status: 'OK' } });
  });

  it('keeps the idempotency record in the one table for at least 3 days', async () => {
    const id = `msg_${randomUUID()}`;
    const before = (await idempotencyRecords()).length;

    await crmWebhook(delivery(userCreated(unique('kept')), { id }));

    const records = await idempotencyRecords();
    expect(records).toHaveLength(before + 1);
    for (const record of records)
      expect(record).toMatchObject({ sk: expect.stringMatching(/^crmWebhook#/), status: 'COMPLETED' });
    const threeDays = Math.floor(Date.now() / 1000) + 3 * 86_400 - 60;
    expect(Math.min(...records.map((item) => Number(item.expiresAt)))).toBeGreaterThanOrEqual(threeDays);
  });

  const zeroSignature = `v1,${Buffer.alloc(32).toString('base64')}`;
  it.each([
    [
      'signed with another key',
      { key: `whsec_${randomBytes(32).toString('base64')}` },
      /No matching signature/,
    ],
    ['carrying an empty signature', { signature: 'v1,' }, /No matching signature|Missing required headers/],
    ['carrying an all-zero signature', { signature: zeroSignature }, /No matching signature/],
    ['stamped 6 minutes ago', { at: new Date(Date.now() - 6 * 60_000) }, /too old/],
    ['stamped 6 minutes ahead', { at: new Date(Date.now() + 6 * 60_000) }, /too new/],
    ['missing webhook-signature', { omit: 'webhook-signature' }, /Missing required headers/],
    ['missing webhook-id', { omit: 'webhook-id' }, /Missing required headers/],
  ])('returns 401 and stores nothing when the delivery is %s', async (_case, options, reason) => {
    const email = unique('intruder');
    const recordsBefore = (await idempotencyRecords()).length;

    const response = await crmWebhook(delivery(userCreated(email), options));

    expect(response.statusCode).toBe(401);
    const body = JSON.parse(response.body);
    expect(body.error.code).toBe('SIGNATURE_INVALID');
    expect(body.error.message).toMatch(reason);
    expect(response.body).not.toContain(secret.slice(6, 20));
    expect(stack.gong.stats.calls).toBe(0);
    expect(await userItems(email)).toEqual([]);
    expect(await idempotencyRecords()).toHaveLength(recordsBefore);
  });

  it.each([
    [
      'an unsupported type',
      JSON.stringify({ type: 'user.deleted', data: { email: 'a@example.com' } }),
      'UNSUPPORTED_TYPE',
      /"user\.deleted" is not supported/,
    ],
    ['no type', JSON.stringify({ data: { email: 'a@example.com' } }), 'TYPE_MISSING', /"type" is missing/],
    [
      'no email',
      JSON.stringify({ type: 'user.created', data: { userId: '005' } }),
      'EMAIL_MISSING',
      /"data\.email" is missing/,
    ],
    ['no data', JSON.stringify({ type: 'user.created' }), 'EMAIL_MISSING', /"data\.email" is missing/],
    [
      'an email that is not one',
      userCreated('not-an-email'),
      'EMAIL_INVALID',
      /"data\.email" is not an email: "not-an-email"/,
    ],
    ['a body that is not JSON', '{"type": "user.created",', 'BAD_JSON', /not valid JSON/],
  ])('returns 400 naming the problem when a signed body has %s', async (_case, body, code, message) => {
    const response = await crmWebhook(delivery(body));

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).error).toMatchObject({ code, message: expect.stringMatching(message) });
    expect(stack.gong.stats.calls).toBe(0);
  });

  it('checks and stores once when the same webhook-id is delivered again, also to a fresh container', async () => {
    const email = unique('retried');
    const body = userCreated(email);
    const id = `msg_${randomUUID()}`;

    const first = await crmWebhook(delivery(body, { id }));
    // Senders re-sign each attempt with a fresh timestamp.
    const second = await crmWebhook(delivery(body, { id, at: new Date(Date.now() + 2_000) }));
    const third = await (loadHandler('crmWebhook', env) as HttpHandler)(delivery(body, { id }));

    expect([first.statusCode, second.statusCode, third.statusCode]).toEqual([200, 200, 200]);
    expect(JSON.parse(second.body)).toEqual(JSON.parse(first.body));
    expect(JSON.parse(third.body)).toEqual(JSON.parse(first.body));
    expect(stack.gong.stats.calls).toBe(1);
    expect(await historyItems(email)).toHaveLength(1);
  });

  it('returns 422 and checks nothing when a webhook-id is reused for another user', async () => {
    const id = `msg_${randomUUID()}`;
    await crmWebhook(delivery(userCreated(unique('first')), { id }));
    const other = unique('second');

    const response = await crmWebhook(delivery(userCreated(other), { id }));

    expect(response.statusCode).toBe(422);
    expect(JSON.parse(response.body).error.code).toBe('WEBHOOK_ID_REUSED');
    expect(stack.gong.stats.calls).toBe(1);
    expect(await userItems(other)).toEqual([]);
  });

  it('returns 502 and lets the sender retry the same id when Gong fails', async () => {
    const email = unique('unlucky');
    const id = `msg_${randomUUID()}`;
    stack.gong.injectFault({ kind: 'status', status: 403 });

    const failed = await crmWebhook(delivery(userCreated(email), { id }));
    const retried = await crmWebhook(delivery(userCreated(email), { id }));

    expect(failed.statusCode).toBe(502);
    expect(retried.statusCode).toBe(200);
    expect(JSON.parse(retried.body).result.status).toBe('OK');
    expect(await historyItems(email)).toHaveLength(1);
  });

  it('accepts the signing secret from CRM_WEBHOOK_SECRET instead of Secrets Manager', async () => {
    const local = `whsec_${randomBytes(24).toString('base64')}`;
    const { CRM_WEBHOOK_SECRET_ID: _unused, ...rest } = env;
    const handler = loadHandler('crmWebhook', { ...rest, CRM_WEBHOOK_SECRET: local }) as HttpHandler;

    const good = await handler(delivery(userCreated(unique('local')), { key: local }));
    const bad = await handler(delivery(userCreated(unique('local'))));

    expect(good.statusCode).toBe(200);
    expect(bad.statusCode).toBe(401);
  });

  it('fails the cold start naming the variables when no signing secret is configured', () => {
    const { CRM_WEBHOOK_SECRET_ID: _unused, ...rest } = env;
    expect(() => loadHandler('crmWebhook', rest)).toThrow(/CRM_WEBHOOK_SECRET_ID.*CRM_WEBHOOK_SECRET/);
  });

  describe('pending re-checks of users Gong does not know yet', () => {
    let recheck: Recheck;
    const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
    const pendingItem = async (email: string) => (await pendingUsers()).find((item) => item.email === email);

    beforeEach(() => {
      recheck = loadHandler('recheckPending', stack.env) as Recheck;
    });

    it('re-checks an unknown user once due and records them valid when Gong knows them', async () => {
      const email = unique('unknown-hire');
      const response = await crmWebhook(delivery(userCreated(email)));
      expect(JSON.parse(response.body)).toMatchObject({
        pending: true,
        result: { exists: false, status: 'NOT_IN_GONG' },
      });
      const item = await pendingItem(email);
      expect(item).toMatchObject({ source: 'crm', attempts: 0 });
      const dueInMinutes = (Date.parse(String(item?.dueAt)) - Date.now()) / 60_000;
      expect(dueInMinutes).toBeGreaterThan(14);
      expect(dueInMinutes).toBeLessThanOrEqual(15);

      const early = await recheck({});
      expect(early.checked).toBe(0);
      expect(stack.gong.stats.calls).toBe(1);

      stack.gong.setUser({ email, exists: true, valid: true });
      const due = await recheck({ asOf: minutesFromNow(16) });

      expect(due.resolved).toContain(email);
      expect(await pendingItem(email)).toBeUndefined();
      const latest = (await userItems(email)).find((i) => i.sk === 'LATEST');
      expect(latest).toMatchObject({ status: 'OK', valid: true, source: 'crm-recheck' });
      expect(await historyItems(email)).toHaveLength(2);
    });

    it('re-checks a still-unknown user hourly and gives up after 3 days', async () => {
      const email = unique('unknown-ghost');
      await crmWebhook(delivery(userCreated(email)));

      const first = await recheck({ asOf: minutesFromNow(16) });
      expect(first.rescheduled).toBeGreaterThanOrEqual(1);
      const item = await pendingItem(email);
      expect(item?.attempts).toBe(1);
      expect(Date.parse(String(item?.dueAt)) - Date.parse(minutesFromNow(16))).toBeGreaterThan(59 * 60_000);

      const last = await recheck({ asOf: minutesFromNow(3 * 24 * 60 + 1) });
      expect(last.expired).toContain(email);
      expect(await pendingItem(email)).toBeUndefined();
    });

    it('re-checks 150 due users in two Gong calls of at most 100', async () => {
      const emails = Array.from({ length: 150 }, () => unique('unknown-batch'));
      // Seed pending users straight into the table, as the webhook leaves them, 20 minutes ago.
      const created = new Date(Date.now() - 20 * 60_000);
      const { createPendingStore } = await import('#lib/crm/pending-store.ts');
      await createPendingStore({ db: stack.db, table: stack.table }).add(emails, {
        source: 'crm',
        at: created,
      });
      for (const email of emails.slice(0, 120)) stack.gong.setUser({ email, exists: true, valid: true });
      stack.gong.resetStats();

      const summary = await recheck({});

      expect(summary.done).toBe(true);
      expect(stack.gong.stats.emailsPerCall.every((n) => n <= 100)).toBe(true);
      expect(stack.gong.stats.calls).toBe(2);
      expect(summary.resolved.filter((e) => emails.includes(e))).toHaveLength(120);
      const stillPending = (await pendingUsers()).filter((item) => emails.includes(String(item.email)));
      expect(stillPending).toHaveLength(30);
    });
  });
});
