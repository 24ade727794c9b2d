import { describe, expect, it } from 'vitest';
import { type BrokenUser, groupByCause, NOT_IN_GONG_MESSAGE } from '#lib/problems/group-by-cause.ts';

const CONSENT = {
  userFacingError: 'The Gong consent page is not enabled in your company. Contact your Gong Admin.',
  fixUrl: 'https://us-12345.app.gong.io/company/recording-consent/consent-page',
};
const CALENDAR = {
  userFacingError:
    'No calls are imported to Gong because you have not connected Gong to your email & calendar provider.',
  fixUrl: 'https://us-12345.app.gong.io/settings/personal/calendar',
};
const user = (n: number, extra: Partial<BrokenUser>): BrokenUser => ({
  email: `u${String(n).padStart(3, '0')}@example.com`,
  status: 'INVALID',
  since: `2026-11-${String(1 + (n % 28)).padStart(2, '0')}T00:00:00.000Z`,
  ...extra,
});

describe('groupByCause', () => {
  it('returns one company problem for 30 users broken by the consent page, with its count and fix link', () => {
    const users = Array.from({ length: 30 }, (_, n) => user(n, CONSENT));
    const [problem, ...rest] = groupByCause(users);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({
      scope: 'company',
      count: 30,
      message: CONSENT.userFacingError,
      fixUrl: CONSENT.fixUrl,
    });
    expect(problem?.emails).toHaveLength(30);
    expect(problem?.since).toBe('2026-11-01T00:00:00.000Z');
  });

  it('returns per-user causes as user scope even when many share the personal settings URL', () => {
    const users = Array.from({ length: 12 }, (_, n) => user(n, CALENDAR));
    expect(groupByCause(users)).toMatchObject([{ scope: 'user', count: 12 }]);
  });

  it('treats a fix URL shared by five users outside personal settings as one admin cause', () => {
    const shared = {
      userFacingError: 'Recording is off.',
      fixUrl: 'https://x.app.gong.io/settings/recording',
    };
    expect(groupByCause([1, 2, 3, 4].map((n) => user(n, shared)))[0]?.scope).toBe('user');
    expect(groupByCause([1, 2, 3, 4, 5].map((n) => user(n, shared)))[0]?.scope).toBe('company');
  });

  it('puts every NOT_IN_GONG user under one cause, skips OK users, and sorts biggest first', () => {
    const users = [
      user(1, { status: 'NOT_IN_GONG' }),
      user(2, { status: 'NOT_IN_GONG', userFacingError: 'ignored' }),
      user(3, CALENDAR),
      user(4, { status: 'OK' }),
      user(5, CONSENT),
      user(6, CONSENT),
      user(7, CONSENT),
    ];
    const problems = groupByCause(users);
    expect(problems.map((p) => [p.count, p.message])).toEqual([
      [3, CONSENT.userFacingError],
      [2, NOT_IN_GONG_MESSAGE],
      [1, CALENDAR.userFacingError],
    ]);
    expect(problems[1]?.fixUrl).toBeUndefined();
    expect(problems.map((p) => p.status)).toEqual(['INVALID', 'NOT_IN_GONG', 'INVALID']);
    expect(new Set(problems.map((p) => p.key)).size).toBe(3);
  });

  it('lists at most maxEmails users, longest broken first, yet counts them all', () => {
    const users = Array.from({ length: 250 }, (_, n) => user(n, CONSENT));
    const [problem] = groupByCause(users, { maxEmails: 100 });
    expect(problem?.count).toBe(250);
    expect(problem?.emails).toHaveLength(100);
    const sinces = problem?.emails.map((email) => users.find((u) => u.email === email)?.since ?? '') ?? [];
    expect([...sinces].sort()).toEqual(sinces);
  });

  it('gives the same key to the same cause in every run', () => {
    const a = groupByCause([user(1, CONSENT)])[0]?.key;
    const b = groupByCause([user(9, CONSENT), user(3, CONSENT)])[0]?.key;
    expect(a).toBe(b);
    expect(a).toMatch(/^INVALID:[0-9a-z]+$/);
  });
});
