import { describe, expect, it } from 'vitest';
import {
  type CheckFailure,
  type CheckReport,
  statusOf,
  summarise,
  type UserResult,
} from '#lib/check/report.ts';
import type { ChangeEvent } from '#lib/history/change-log.ts';
import type { LatestResult } from '#lib/history/history-store.ts';
import { groupByCause } from '#lib/problems/group-by-cause.ts';
import {
  buildCheckMessage,
  buildErrorMessage,
  buildHelpMessage,
  buildHistoryMessage,
  buildNoteMessage,
  buildTeamMessage,
} from '#lib/slack/blocks.ts';
import { buildChangeDigest, buildNudgeMessage } from '#lib/slack/digest.ts';
import { buildHomeView } from '#lib/slack/home-view.ts';
import type { TeamSummary } from '#lib/slack/team-summary.ts';
import { expectValidBlockKit } from '../support/block-kit.ts';

const ACTION_IDS = /^(fix-it|learn-more|recheck)[:\w-]*$/;
const LONG = `Gong says: ${'this user cannot be recorded because of a long reason & <more> '.repeat(40)}`;
const CONSENT = 'The Gong consent page is not enabled in your company. Contact your Gong Admin.';
const CONSENT_FIX = 'https://us-12345.app.gong.io/company/recording-consent/consent-page';
const email = (i: number) =>
  `a-rather-long-name-for-user-number-${String(i).padStart(4, '0')}@example-company.com`;
const since = (i: number) => new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString();

function result(i: number): UserResult {
  const kind = i % 3;
  const exists = kind !== 2;
  const valid = kind === 0;
  return {
    email: email(i),
    exists,
    valid,
    status: statusOf(exists, valid),
    checkedAt: '2026-11-28T12:00:00.000Z',
    gongRequestId: 'g',
    ...(kind === 1
      ? {
          userFacingError: LONG,
          fixUrl: `https://x.app.gong.io/settings/personal/${i}`,
          helpUrl: 'https://help.gong.io/x',
        }
      : {}),
  };
}

function latest(i: number): LatestResult {
  // A few hundred users: most broken by the company-wide consent page, others each by their own long reason, some unknown.
  const status = i % 5 === 4 ? 'NOT_IN_GONG' : 'INVALID';
  return {
    email: email(i),
    exists: status !== 'NOT_IN_GONG',
    valid: false,
    status,
    checkedAt: '2026-11-28T12:00:00.000Z',
    since: since(i),
    gongRequestId: 'g',
    source: 'sweep',
    requestId: 'r',
    ...(status === 'INVALID'
      ? i % 2 === 0
        ? { userFacingError: CONSENT, fixUrl: CONSENT_FIX }
        : { userFacingError: `${LONG} ${i}`, fixUrl: `https://x.app.gong.io/settings/personal/${i}` }
      : {}),
  };
}

function team(count: number): TeamSummary {
  const broken = Array.from({ length: count }, (_, i) => latest(i));
  return {
    counts: { OK: 5_000, INVALID: count, NOT_IN_GONG: 0 },
    problems: groupByCause(broken),
    broken: broken.slice(0, 20),
  };
}

const maxSection = (blocks: object[]) => Math.max(...blocks.map((block) => JSON.stringify(block).length));

describe('every Slack message kind with hundreds of users', () => {
  it('returns a check answer of 100 users, 300 notes and failures within 50 blocks and 3000 characters a text', () => {
    const results = Array.from({ length: 100 }, (_, i) => result(i));
    const failures: CheckFailure[] = Array.from({ length: 50 }, (_, i) => ({
      email: email(1000 + i),
      code: 'GONG_UNAVAILABLE',
      message: LONG,
    }));
    const report: CheckReport = {
      requestId: 'req',
      checkedAt: '2026-11-28T12:00:00.000Z',
      results,
      failures,
      summary: summarise(results, failures),
    };
    const notes = Array.from(
      { length: 300 },
      (_, i) => `<@U0BOT${i}> has no email address in Slack (a bot), so Gong cannot be asked about them.`,
    );

    for (const message of [
      buildCheckMessage(report, { notes }),
      buildCheckMessage(report, { notes, stamped: true }),
    ]) {
      expectValidBlockKit(message, ACTION_IDS);
      expect(message.text.length).toBeLessThanOrEqual(3000);
      expect(maxSection(message.blocks)).toBeLessThan(4000);
    }
  });

  it('returns a Gong-failed answer, a note, an error, help and history within the limits', () => {
    const failures: CheckFailure[] = Array.from({ length: 100 }, (_, i) => ({
      email: email(i),
      code: 'GONG_RATE_LIMITED',
      message: 'x',
      retryAfterSeconds: 30,
    }));
    const notes = Array.from(
      { length: 300 },
      (_, i) => `<@U0BOT${i}> has no email address in Slack (a bot).`,
    );
    const failed = buildCheckMessage(
      {
        requestId: 'r',
        checkedAt: '2026-11-28T12:00:00.000Z',
        results: [],
        failures,
        summary: summarise([], failures),
      },
      { notes },
    );
    const history = buildHistoryMessage(
      email(1),
      Array.from({ length: 10 }, (_, i) => ({ ...latest(i * 2 + 1), source: 'slack' })),
    );
    for (const message of [
      failed,
      buildNoteMessage(notes),
      buildErrorMessage('r'),
      buildHelpMessage(),
      history,
    ]) {
      expectValidBlockKit(message, ACTION_IDS);
    }
  });

  it.each([30, 300, 3000])(
    'returns the team answer and App Home within the limits for %i broken users',
    (count) => {
      const summary = team(count);
      const message = buildTeamMessage(summary, { teamPageUrl: 'https://api.example.com/' });
      const home = buildHomeView({
        own: { ...latest(1), helpUrl: 'https://help.gong.io/x' },
        team: summary,
        teamPageUrl: 'https://api.example.com/',
      });

      expectValidBlockKit(message, ACTION_IDS);
      expectValidBlockKit({ blocks: home.blocks, text: 'home' }, ACTION_IDS);
      expect(message.text.length).toBeLessThanOrEqual(3000);
      // The company-wide cause is one line with its count, whatever the number of users.
      const consent = Math.ceil((count * 4) / 5 / 2);
      expect(JSON.stringify(message.blocks)).toContain(`*${consent} users* — ${CONSENT}`);
      expect(JSON.stringify(home.blocks)).toContain(`*${consent} users* — ${CONSENT}`);
      expect(JSON.stringify(message.blocks)).toContain('team-health page');
    },
  );

  it('returns the digest within the limits for 500 broke (company-wide and per-user) and 800 fixed', () => {
    const event = (i: number, overrides: Partial<ChangeEvent> = {}): ChangeEvent => ({
      email: email(i),
      kind: 'broke',
      from: 'OK',
      to: 'INVALID',
      at: since(i),
      source: 'sweep',
      requestId: 'r',
      ...(i % 2 === 0
        ? { userFacingError: CONSENT, fixUrl: CONSENT_FIX }
        : { userFacingError: `${LONG} ${i}`, fixUrl: `https://x.app.gong.io/settings/personal/${i}` }),
      ...overrides,
    });
    const broke = Array.from({ length: 500 }, (_, i) => event(i));
    const fixed = Array.from({ length: 800 }, (_, i) =>
      event(1000 + i, { kind: 'fixed', from: 'INVALID', to: 'OK' }),
    );

    const message = buildChangeDigest({
      broke,
      fixed,
      stillBroken: { invalid: 900, notInGong: 100 },
      checked: 20_000,
    });

    expectValidBlockKit(message, ACTION_IDS);
    expect(message.text.length).toBeLessThanOrEqual(3000);
    const text = JSON.stringify(message.blocks);
    expect(text).toContain(`⚠️ *250 users* — ${CONSENT}`);
    expect(text.match(/consent page is not enabled/g)).toHaveLength(1);
    expect(text).toMatch(/…and \d+ more newly broken, not shown here\./);
  });

  it('returns a nudge within the limits for a very long Gong message', () => {
    expectValidBlockKit(
      buildNudgeMessage({
        email: email(1),
        since: since(1),
        userFacingError: LONG.repeat(3),
        fixUrl: CONSENT_FIX,
      }),
      ACTION_IDS,
    );
  });
});

describe('buildChangeDigest grouping', () => {
  it('returns 30 users broken by the consent page as one section with 30 and the admin’s Fix it, and per-user causes per user', () => {
    const broke: ChangeEvent[] = [
      ...Array.from({ length: 30 }, (_, i) => ({
        email: `rep${i}@example.com`,
        kind: 'broke' as const,
        from: 'OK' as const,
        to: 'INVALID' as const,
        at: since(i),
        userFacingError: CONSENT,
        fixUrl: CONSENT_FIX,
        source: 'sweep',
        requestId: 'r',
      })),
      {
        email: 'linus@example.com',
        kind: 'broke',
        from: 'OK',
        to: 'INVALID',
        at: since(99),
        userFacingError: 'You have not connected your calendar.',
        fixUrl: 'https://x.app.gong.io/settings/personal/calendar',
        source: 'sweep',
        requestId: 'r',
      },
    ];

    const message = buildChangeDigest({
      broke,
      fixed: [],
      stillBroken: { invalid: 31, notInGong: 0 },
      checked: 31,
    });

    expectValidBlockKit(message, ACTION_IDS);
    const sections = message.blocks.filter((block) => block.type === 'section');
    expect(sections).toHaveLength(2);
    expect(sections[0]).toMatchObject({
      text: { text: expect.stringContaining(`⚠️ *30 users* — ${CONSENT}`) },
      accessory: { url: CONSENT_FIX, action_id: 'fix-it:digest-cause-0' },
    });
    expect(sections[1]?.text.text).toContain('*linus@example.com*');
    expect(message.text).toContain(`30 users: ${CONSENT} (company-wide)`);
  });
});
