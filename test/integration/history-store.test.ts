import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserResult } from '#lib/check/report.ts';
import { createHistoryStore, type HistoryStore } from '#lib/history/history-store.ts';
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
});
