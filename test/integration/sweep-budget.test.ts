import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckUsers } from '#lib/check/check-users.ts';
import type { CheckReport, UserResult } from '#lib/check/report.ts';
import { createChangeLog } from '#lib/history/change-log.ts';
import { createHistoryStore } from '#lib/history/history-store.ts';
import { logger } from '#lib/observability/logger.ts';
import type { SweepMessage, SweepNotifier } from '#lib/sweep/notifier.ts';
import { createSweep } from '#lib/sweep/sweep.ts';
import { createSweepStore } from '#lib/sweep/sweep-store.ts';
import { type LocalTable, startLocalTable } from '../support/stack.ts';

const ok = (email: string, checkedAt: string, valid = true): UserResult => ({
  email,
  exists: true,
  valid,
  status: valid ? 'OK' : 'INVALID',
  checkedAt,
  gongRequestId: 'g',
});

describe('sweep when the day’s Gong budget is spent', () => {
  let local: LocalTable;
  beforeAll(async () => {
    local = await startLocalTable('sweep-budget-test', {
      translateConfig: { marshallOptions: { removeUndefinedValues: true } },
    });
  });
  afterAll(async () => local?.stop());

  it('stops cleanly, posts the digest of what it saw, stores the day’s counts and answers stopped', async () => {
    const { db, table } = local;
    const store = createHistoryStore({ db, table });
    const emails = Array.from({ length: 250 }, (_, i) => `b${String(i).padStart(3, '0')}@example.com`);
    const seededAt = new Date(Date.now() - 60_000).toISOString();
    await store.record(
      emails.map((email) => ok(email, seededAt)),
      { source: 'api', requestId: 'seed', previous: new Map() },
    );
    // The first background call is answered (b000 broke); every later one is refused for budget,
    // as lib/gong refuses background callers past 80% of the day's calls.
    let calls = 0;
    const priorities: unknown[] = [];
    const checkUsers: CheckUsers = async (input, options) => {
      const asked = input as string[];
      priorities.push(options.priority);
      calls += 1;
      const at = new Date().toISOString();
      if (calls > 1) {
        const failures = asked.map((email) => ({
          email,
          code: 'GONG_BUDGET_SPENT' as const,
          message: 'The day’s Gong budget for background checks is spent',
          retryAfterSeconds: 3_600,
        }));
        return {
          requestId: options.requestId,
          checkedAt: at,
          results: [],
          failures,
          summary: summary(0, asked.length),
        };
      }
      const results = asked.map((email) => ok(email, at, email !== 'b000@example.com'));
      const previous = await store.getLatestMany(asked);
      await store.record(results, { source: options.source, requestId: options.requestId, previous });
      return {
        requestId: options.requestId,
        checkedAt: at,
        results,
        failures: [],
        summary: summary(results.length, 0),
      };
    };
    const posted: SweepMessage[] = [];
    const notifier: SweepNotifier = {
      async postDigest(message) {
        posted.push(message);
      },
      async nudge() {
        return false;
      },
    };
    const published: Record<string, number[]> = {};
    const record = (name: string) => (value: number) => {
      published[name] = [...(published[name] ?? []), value];
    };
    const sweeps = createSweepStore({ db, table });
    const sweep = createSweep({
      store,
      checkUsers,
      sweeps,
      changes: createChangeLog({ db, table }),
      notifier,
      logger,
      handOff: async () => {
        throw new Error('no hand-off expected');
      },
      rps: 1,
      chunkSeconds: 1,
      metrics: {
        usersBroken: record('UsersBroken'),
        brokenShare: record('BrokenShare'),
        brokenShareIncrease: record('BrokenShareIncrease'),
        changesPosted: record('ChangesPosted'),
      },
    });

    const answer = await sweep({}, { requestId: 'budget-run', deadline: Date.now() + 60_000 });

    expect(answer).toEqual({
      checked: 100,
      broke: ['b000@example.com'],
      fixed: [],
      done: true,
      stopped: 'GONG_BUDGET_SPENT',
      reason: 'The day’s Gong budget for background checks is spent',
    });
    expect(calls).toBe(2);
    expect(priorities.every((priority) => priority === 'background')).toBe(true);
    expect(posted).toHaveLength(1);
    expect((await sweeps.loadRun('budget-run'))?.stopped).toMatchObject({
      code: 'GONG_BUDGET_SPENT',
      message: 'The day’s Gong budget for background checks is spent',
      phase: 'stored',
    });
    const today = new Date().toISOString().slice(0, 10);
    expect(await sweeps.listDailyStats(7)).toEqual([{ date: today, ok: 249, invalid: 1, notInGong: 0 }]);
    expect(published).toEqual({ ChangesPosted: [1], UsersBroken: [1], BrokenShare: [0.4] });

    // The next sweep (the budget renewed) compares its share with this one's snapshot.
    calls = -1_000;
    const next = await sweep({}, { requestId: 'next-run', deadline: Date.now() + 60_000 });
    expect(next.stopped).toBeUndefined();
    expect(published.BrokenShareIncrease).toHaveLength(1);
  });
});

function summary(answered: number, failed: number): CheckReport['summary'] {
  return { total: answered + failed, valid: answered, invalid: 0, notFound: 0, failed };
}
