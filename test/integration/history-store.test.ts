import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserResult } from '#lib/check/report.ts';
import { createPendingStore } from '#lib/crm/pending-store.ts';
import { ValidationError } from '#lib/errors/errors.ts';
import { createChangeLog } from '#lib/history/change-log.ts';
import { createHistoryStore, type HistoryStore } from '#lib/history/history-store.ts';
import { createSweepStore } from '#lib/sweep/sweep-store.ts';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '#local/dynamodb-fault-proxy.ts';
import { type LocalTable, startLocalTable } from '../support/stack.ts';

const result = (email: string, checkedAt: string, valid: boolean): UserResult => ({
  email,
  exists: true,
  valid,
  status: valid ? 'OK' : 'INVALID',
  checkedAt,
  gongRequestId: `g-${checkedAt}`,
});

describe('createHistoryStore', () => {
  let local: LocalTable;
  let store: HistoryStore;

  beforeAll(async () => {
    local = await startLocalTable('history-test', {
      translateConfig: { marshallOptions: { removeUndefinedValues: true } },
    });
    store = createHistoryStore({ db: local.db, table: local.table });
  });
  afterAll(async () => local?.stop());

  const latestItem = async (email: string) =>
    (
      await local.db.send(
        new GetCommand({ TableName: local.table, Key: { pk: `USER#${email}`, sk: 'LATEST' } }),
      )
    ).Item;
  const gone = (email: string, checkedAt: string): UserResult => ({
    email,
    exists: false,
    valid: false,
    status: 'NOT_IN_GONG',
    checkedAt,
    gongRequestId: `g-${checkedAt}`,
  });

  it('lets a NOT_IN_GONG user expire the retention after someone last asked, however often the sweep re-checks them', async () => {
    const email = 'ghost@example.com';
    const asked = '2026-01-10T12:00:00.000Z';
    await store.record([gone(email, asked)], { source: 'api', requestId: 'a1', previous: new Map() });
    const expiry = Math.floor(Date.parse(asked) / 1000) + 400 * 86_400;
    expect((await latestItem(email))?.expiresAt).toBe(expiry);
    // The sweep re-checks them daily, once with a change of what Gong says: the expiry stays.
    for (const [i, at] of ['2026-02-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z'].entries()) {
      const previous = await store.getLatestMany([email]);
      const answer = i === 0 ? gone(email, at) : { ...gone(email, at), helpUrl: 'https://help.gong.io/x' };
      await store.record([answer], { source: 'sweep', requestId: `s${i}`, previous });
    }
    expect((await latestItem(email))?.expiresAt).toBe(expiry);
    expect((await store.getLatest(email))?.checkedAt).toBe('2026-03-01T00:00:00.000Z');
    // Someone asks again: the expiry moves with them.
    const again = '2026-04-01T00:00:00.000Z';
    await store.record([gone(email, again)], {
      source: 'slack',
      requestId: 'a2',
      previous: await store.getLatestMany([email]),
    });
    expect((await latestItem(email))?.expiresAt).toBe(Math.floor(Date.parse(again) / 1000) + 400 * 86_400);
    // A user with a change still to tell never expires until the digest took it.
    const broke = 'broke-gone@example.com';
    await store.record([result(broke, asked, true)], { source: 'api', requestId: 'b1', previous: new Map() });
    await store.record([gone(broke, again)], {
      source: 'sweep',
      requestId: 'b2',
      previous: await store.getLatestMany([broke]),
    });
    expect((await latestItem(broke))?.expiresAt).toBeUndefined();
    const changes = createChangeLog({ db: local.db, table: local.table });
    const pending = (await changes.listPending()).filter((outbox) => outbox.email === broke);
    expect(pending.flatMap((outbox) => outbox.events.map((event) => event.kind))).toEqual(['broke']);
    await changes.clearPosted(
      pending.map((outbox) => ({ email: broke, ids: outbox.events.map((event) => event.id) })),
    );
    expect((await latestItem(broke))?.expiresAt).toBe(Math.floor(Date.parse(asked) / 1000) + 400 * 86_400);
    expect((await changes.listPending()).some((outbox) => outbox.email === broke)).toBe(false);
  });

  it('keeps a change not yet told when the next check changes the same user again', async () => {
    const email = 'twice@example.com';
    const check = async (checkedAt: string, valid: boolean, requestId: string) =>
      store.record([result(email, checkedAt, valid)], {
        source: 'sweep',
        requestId,
        previous: await store.getLatestMany([email]),
      });
    await check('2026-03-01T00:00:00.000Z', true, 't1');
    await check('2026-03-02T00:00:00.000Z', false, 't2');
    // Broken, not yet in a digest, and fixed again: the digest must tell both, not a fix alone.
    await check('2026-03-03T00:00:00.000Z', true, 't3');

    const changes = createChangeLog({ db: local.db, table: local.table });
    const pending = (await changes.listPending()).filter((outbox) => outbox.email === email);
    expect(pending.flatMap((outbox) => outbox.events.map((event) => `${event.kind} ${event.at}`))).toEqual([
      'broke 2026-03-02T00:00:00.000Z',
      'fixed 2026-03-03T00:00:00.000Z',
    ]);
  });

  it('writes no latest item for a check that changed nothing, yet shows its time', async () => {
    const email = 'steady@example.com';
    await store.record([result(email, '2026-05-01T00:00:00.000Z', true)], {
      source: 'api',
      requestId: 'q1',
      previous: new Map(),
    });
    const before = await latestItem(email);
    await store.record([result(email, '2026-05-01T01:00:00.000Z', true)], {
      source: 'sweep',
      requestId: 'q2',
      previous: await store.getLatestMany([email]),
    });
    expect((await latestItem(email))?.version).toBe(before?.version);
    expect(await store.getLatest(email)).toMatchObject({
      checkedAt: '2026-05-01T01:00:00.000Z',
      requestId: 'q2',
      status: 'OK',
    });
    expect((await store.lastCheckedMany([email])).get(email)).toBe('2026-05-01T01:00:00.000Z');
  });

  it('keeps the newer latest result when an older check is stored after it', async () => {
    const email = 'late@example.com';
    await store.record([result(email, '2026-11-28T12:00:05.000Z', false)], {
      source: 'sweep',
      requestId: 'newer',
      previous: new Map(),
    });
    const unstored = await store.record([result(email, '2026-11-28T12:00:01.000Z', true)], {
      source: 'api',
      requestId: 'older',
      previous: new Map(),
    });

    expect(unstored.size).toBe(0);
    expect(await store.getLatest(email)).toMatchObject({
      checkedAt: '2026-11-28T12:00:05.000Z',
      valid: false,
    });
    const history = await store.listHistory(email, { limit: 10 });
    expect(history.items.map((item) => item.requestId)).toEqual(['newer', 'older']);
  });

  it('keeps `since` while the status stays and moves it when the status changes', async () => {
    const email = 'since@example.com';
    const store3 = async (at: string, valid: boolean) => {
      const previous = await store.getLatestMany([email]);
      await store.record([result(email, at, valid)], { source: 'api', requestId: at, previous });
    };
    await store3('2026-11-28T10:00:00.000Z', false);
    await store3('2026-11-28T11:00:00.000Z', false);
    expect((await store.getLatest(email))?.since).toBe('2026-11-28T10:00:00.000Z');
    await store3('2026-11-28T12:00:00.000Z', true);
    expect(await store.getLatest(email)).toMatchObject({ since: '2026-11-28T12:00:00.000Z', status: 'OK' });
  });

  it('stores more than one BatchWriteItem holds (25) in one record call', async () => {
    const results = Array.from({ length: 60 }, (_, i) =>
      result(`bulk${i}@example.com`, '2026-11-28T09:00:00.000Z', true),
    );
    const unstored = await store.record(results, { source: 'api', requestId: 'bulk', previous: new Map() });
    expect(unstored.size).toBe(0);
    const latest = await store.getLatestMany(results.map((r) => r.email));
    expect(latest.size).toBe(60);
  });

  it('pages through a history with cursors and refuses a cursor of another user', async () => {
    const email = 'pages@example.com';
    for (const at of ['2026-11-28T01:00:00.000Z', '2026-11-28T02:00:00.000Z', '2026-11-28T03:00:00.000Z']) {
      await store.record([result(email, at, true)], { source: 'api', requestId: at, previous: new Map() });
    }
    const first = await store.listHistory(email, { limit: 2 });
    expect(first.nextCursor).toBeDefined();
    const second = await store.listHistory(email, { limit: 2, cursor: String(first.nextCursor) });
    expect([...first.items, ...second.items].map((item) => item.checkedAt)).toEqual([
      '2026-11-28T03:00:00.000Z',
      '2026-11-28T02:00:00.000Z',
      '2026-11-28T01:00:00.000Z',
    ]);
    await expect(
      store.listHistory('other@example.com', { limit: 2, cursor: String(first.nextCursor) }),
    ).rejects.toThrow(ValidationError);
  });
});

// What a bulk check costs the table decides how long it takes (README › Storage): counted by the
// proxy in front of the server, per operation.
describe('createHistoryStore: requests per check', () => {
  let local: LocalTable;
  let proxy: DynamoFaultProxy;
  let client: DynamoDBClient;
  let store: HistoryStore;

  beforeAll(async () => {
    local = await startLocalTable('history-cost-test');
    proxy = await startDynamoFaultProxy({ upstream: local.dynamo.endpoint });
    client = new DynamoDBClient({
      endpoint: proxy.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    store = createHistoryStore({ db: DynamoDBDocumentClient.from(client), table: local.table });
  });
  afterAll(async () => {
    client?.destroy();
    await proxy?.close();
    await local?.stop();
  });

  const requestsDuring = async (work: () => Promise<unknown>) => {
    const before = { ...proxy.stats().requests };
    await work();
    return Object.fromEntries(
      Object.entries(proxy.stats().requests)
        .map(([operation, count]) => [operation, count - (before[operation] ?? 0)] as const)
        .filter(([, count]) => count > 0),
    );
  };
  const check = async (emails: string[], at: string, broken: Set<string>) => {
    const previous = await store.getLatestMany(emails);
    const results = emails.map((email) => result(email, at, !broken.has(email)));
    expect(await store.record(results, { source: 'api', requestId: at, previous })).toEqual(new Set());
  };

  it('creates each new user with one conditional PutItem, and stores a repeat that changed nothing in batches', async () => {
    const emails = Array.from({ length: 60 }, (_, i) => `cost${i}@example.com`);
    // New users: one read of all, history in 3 batches, one create each; no look-up of their history.
    expect(await requestsDuring(() => check(emails, '2026-11-28T09:00:00.000Z', new Set()))).toEqual({
      BatchGetItem: 1,
      BatchWriteItem: 3,
      PutItem: 60,
    });
    // An hour later one of them broke: 119 history and last-seen items in 5 batches, one confirming
    // read, and for the one who changed a conditional write and a look at their newest history.
    const broke = new Set([String(emails[7])]);
    expect(await requestsDuring(() => check(emails, '2026-11-28T10:00:00.000Z', broke))).toEqual({
      BatchGetItem: 2,
      BatchWriteItem: 5,
      PutItem: 1,
      Query: 1,
    });
    expect(await store.getLatest(String(emails[7]))).toMatchObject({
      status: 'INVALID',
      since: '2026-11-28T10:00:00.000Z',
    });
    expect(await store.getLatest(String(emails[8]))).toMatchObject({
      status: 'OK',
      since: '2026-11-28T09:00:00.000Z',
      checkedAt: '2026-11-28T10:00:00.000Z',
    });
  });
});

describe('createPendingStore', () => {
  let local: LocalTable;

  beforeAll(async () => {
    local = await startLocalTable('pending-test');
  });
  afterAll(async () => local?.stop());

  it('lists due users a page at a time with opaque cursors and refuses a forged one', async () => {
    const pending = createPendingStore({ db: local.db, table: local.table });
    const at = new Date('2026-11-28T12:00:00.000Z');
    await pending.add(['p1@example.com', 'p2@example.com', 'p3@example.com'], { source: 'crm', at });
    const asOf = new Date('2026-11-28T13:00:00.000Z');
    const emails: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await pending.listDue(asOf, { limit: 2, ...(cursor ? { cursor } : {}) });
      emails.push(...page.items.map((user) => user.email));
      cursor = page.cursor;
      pages += 1;
      if (cursor !== undefined) expect(typeof cursor).toBe('string');
    } while (cursor);
    expect(emails.sort()).toEqual(['p1@example.com', 'p2@example.com', 'p3@example.com']);
    expect(pages).toBeGreaterThan(1);
    const forged = Buffer.from(JSON.stringify({ pk: 'USER#p1@example.com', sk: 'LATEST' })).toString(
      'base64url',
    );
    await expect(pending.listDue(asOf, { limit: 2, cursor: forged })).rejects.toMatchObject({
      code: 'CURSOR_INVALID',
    });
  });
});

describe('createSweepStore', () => {
  let local: LocalTable;
  let history: HistoryStore;

  beforeAll(async () => {
    local = await startLocalTable('sweep-store-test', {
      translateConfig: { marshallOptions: { removeUndefinedValues: true } },
    });
    history = createHistoryStore({ db: local.db, table: local.table });
  });
  afterAll(async () => local?.stop());

  it('lists the users who entered a status on a day, a page at a time, and refuses a cursor of another day', async () => {
    const sweeps = createSweepStore({ db: local.db, table: local.table });
    const entered = ['2026-11-27T23:59:59.000Z', '2026-11-28T00:00:00.000Z', '2026-11-28T08:00:00.000Z'];
    await history.record(
      [
        ...entered.map((at, i) => result(`day${i}@example.com`, at, false)),
        result('later@example.com', '2026-11-28T09:00:00.000Z', false),
        result('fine@example.com', '2026-11-28T10:00:00.000Z', true),
      ],
      { source: 'sweep', requestId: 'r', previous: new Map() },
    );
    const emails: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await sweeps.listEnteredOn('INVALID', '2026-11-28', {
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      emails.push(...page.items.map((user) => user.email));
      cursor = page.nextCursor;
    } while (cursor);
    expect(emails.sort()).toEqual(['day1@example.com', 'day2@example.com', 'later@example.com']);
    expect(await sweeps.countStatus('INVALID')).toBe(4);

    const first = await sweeps.listEnteredOn('INVALID', '2026-11-28', { limit: 1 });
    await expect(
      sweeps.listEnteredOn('INVALID', '2026-11-27', { limit: 1, cursor: String(first.nextCursor) }),
    ).rejects.toThrow(ValidationError);
  });
});
