import { describe, expect, it } from 'vitest';
import type { CheckUsers } from '#lib/check/check-users.ts';
import type { CheckReport, UserResult } from '#lib/check/report.ts';
import { createNewUserCheck } from '#lib/crm/new-user-check.ts';
import type { PendingStore } from '#lib/crm/pending-store.ts';

function result(email: string, exists: boolean): UserResult {
  return {
    email,
    exists,
    valid: exists,
    status: exists ? 'OK' : 'NOT_IN_GONG',
    checkedAt: '2026-11-28T12:00:00.000Z',
    gongRequestId: 'g1',
  };
}

describe('createNewUserCheck', () => {
  it('queues users Gong did not know and users it gave no answer for, when it answered for others', async () => {
    const report: CheckReport = {
      requestId: 'r1',
      checkedAt: '2026-11-28T12:00:00.000Z',
      results: [result('known@x.com', true), result('new@x.com', false)],
      failures: [{ email: 'missed@x.com', code: 'GONG_INCOMPLETE_ANSWER', message: 'not in the answer' }],
      summary: { total: 3, valid: 1, invalid: 0, notFound: 1, failed: 1 },
    };
    const added: string[][] = [];
    const pending = { add: async (emails: string[]) => void added.push(emails) } as unknown as PendingStore;
    const check = createNewUserCheck({ checkUsers: (async () => report) as CheckUsers, pending });

    const outcome = await check(['known@x.com', 'new@x.com', 'missed@x.com'], {
      source: 'salesforce',
      requestId: 'r1',
      deadline: Date.now() + 10_000,
    });

    expect(outcome.pending).toEqual(['new@x.com', 'missed@x.com']);
    expect(added).toEqual([['new@x.com', 'missed@x.com']]);
  });
});
