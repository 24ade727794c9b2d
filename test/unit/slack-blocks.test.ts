import { describe, expect, it } from 'vitest';
import {
  type CheckFailure,
  type CheckReport,
  statusOf,
  summarise,
  type UserResult,
} from '#lib/check/report.ts';
import type { StoredResult } from '#lib/history/history-store.ts';
import { groupByCause } from '#lib/problems/group-by-cause.ts';
import { type Block, MAX_BLOCKS } from '#lib/slack/block-kit.ts';
import {
  buildCheckMessage,
  buildHelpMessage,
  buildHistoryMessage,
  buildTeamMessage,
} from '#lib/slack/blocks.ts';
import { expectValidBlockKit } from '../support/block-kit.ts';

const FIX = 'https://us-12345.app.gong.io/company/recording-consent/consent-page';
const HELP = 'https://help.gong.io/hc/en-us/articles/360056677792';

function result(email: string, exists: boolean, valid: boolean, extra: Partial<UserResult> = {}): UserResult {
  return {
    email,
    exists,
    valid,
    status: statusOf(exists, valid),
    checkedAt: '2026-11-28T12:00:00.000Z',
    gongRequestId: 'g1',
    ...extra,
  };
}

function report(results: UserResult[], failures: CheckFailure[] = []): CheckReport {
  return {
    requestId: 'req-123',
    checkedAt: '2026-11-28T12:00:00.000Z',
    results,
    failures,
    summary: summarise(results, failures),
  };
}

const texts = (blocks: Block[]) =>
  blocks.flatMap((block) =>
    block.type === 'section'
      ? [block.text.text]
      : block.type === 'context'
        ? block.elements.map((e) => e.text)
        : [],
  );
const buttons = (blocks: Block[]) =>
  blocks.flatMap((block) => (block.type === 'actions' ? block.elements : []));

describe('buildCheckMessage', () => {
  it('returns a summary, a section per user and Fix it / Learn more buttons with Gong’s URLs', () => {
    const broken = result('grace@example.com', true, false, {
      userFacingError: 'The Gong consent page is not enabled in your company. Contact your Gong Admin.',
      fixUrl: FIX,
      helpUrl: HELP,
    });
    const message = buildCheckMessage(report([result('ada@example.com', true, true), broken]));
    expectValidBlockKit(message);

    expect(texts(message.blocks)[0]).toContain('2 users');
    expect(texts(message.blocks).some((t) => t.includes('✅ *ada@example.com*'))).toBe(true);
    expect(
      texts(message.blocks).some((t) =>
        t.includes(
          '⚠️ *grace@example.com* — The Gong consent page is not enabled in your company. Contact your Gong Admin.',
        ),
      ),
    ).toBe(true);
    expect(buttons(message.blocks).map((b) => [b.text.text, b.url])).toEqual([
      ['Fix it', FIX],
      ['Learn more', HELP],
    ]);
    expect(message.text).toMatch(/^Gong recording status: 2 users/);
    expect(message.text).toContain('grace@example.com: The Gong consent page is not enabled');
  });

  it('escapes only &, < and > in Gong’s message so Slack shows its words unchanged', () => {
    const message = buildCheckMessage(
      report([
        result('a@example.com', true, false, { userFacingError: 'Calendar <Google> & Outlook: "fix"' }),
      ]),
    );
    expectValidBlockKit(message);
    expect(texts(message.blocks).join('\n')).toContain('Calendar &lt;Google&gt; &amp; Outlook: "fix"');
  });

  it('returns at most 50 blocks, broken users first, and says how many were left out when 100 are checked', () => {
    const results = Array.from({ length: 100 }, (_, i) =>
      i % 4 === 0
        ? result(`broken${i}@example.com`, true, false, { userFacingError: 'x', fixUrl: FIX, helpUrl: HELP })
        : result(`ok${i}@example.com`, true, true),
    );
    const message = buildCheckMessage(report(results));
    expectValidBlockKit(message);

    expect(message.blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    expect(texts(message.blocks)[1]).toContain('broken0@example.com');
    const shownUsers = texts(message.blocks).filter((t) => /\*\S+@example\.com\*/.test(t)).length;
    expect(texts(message.blocks).at(-1)).toContain(`…and ${100 - shownUsers} more not shown`);
    const ids = buttons(message.blocks).map((b) => b.action_id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('returns an honest message with the request id and no internals when Gong answered for nobody', () => {
    const failures: CheckFailure[] = [
      {
        email: 'ada@example.com',
        code: 'GONG_UNAVAILABLE',
        message: 'Gong answered 500 to POST /v2/meetings/integration/status',
      },
    ];
    const message = buildCheckMessage(report([], failures));
    expectValidBlockKit(message);

    expect(message.text).toContain('Gong did not answer (GONG_UNAVAILABLE)');
    expect(message.text).toContain('req-123');
    expect(message.text).not.toMatch(/at \S+ \(|\.ts:\d+/);
    expect(message.blocks).toHaveLength(1);
  });

  it('says when to retry when Gong rate limited every call', () => {
    const failures: CheckFailure[] = [
      { email: 'ada@example.com', code: 'GONG_RATE_LIMITED', message: 'limited', retryAfterSeconds: 30 },
    ];
    expect(buildCheckMessage(report([], failures)).text).toContain('try again in 30 s');
  });

  it("says the day's budget is spent and when it renews, in hours and minutes", () => {
    const failures: CheckFailure[] = [
      {
        email: 'ada@example.com',
        code: 'GONG_BUDGET_SPENT',
        message: 'spent',
        retryAfterSeconds: 6 * 3600 + 57 * 60,
      },
    ];
    const { text } = buildCheckMessage(report([], failures));
    expect(text).toContain(
      "Today's Gong call budget is spent (GONG_BUDGET_SPENT); it renews at 00:00 UTC, in 6 h 57 min.",
    );
  });

  it('lists a user Gong failed for beside the others, with the request id', () => {
    const message = buildCheckMessage(
      report(
        [result('ada@example.com', true, true)],
        [{ email: 'b@example.com', code: 'GONG_UNAVAILABLE', message: 'timed out' }],
      ),
    );
    expectValidBlockKit(message);
    expect(
      texts(message.blocks).some((t) => t.includes('❌ *b@example.com* — could not check: timed out')),
    ).toBe(true);
    expect(texts(message.blocks).at(-1)).toContain('req-123');
  });
});

describe('buildHistoryMessage', () => {
  const item = (checkedAt: string, valid: boolean): StoredResult => ({
    email: 'grace@example.com',
    exists: true,
    valid,
    status: statusOf(true, valid),
    checkedAt,
    gongRequestId: 'g',
    source: 'slack',
    requestId: 'r',
    ...(valid ? {} : { userFacingError: 'Consent page off', fixUrl: FIX }),
  });

  it('returns one line per stored check and a Fix it button for a broken latest result', () => {
    const message = buildHistoryMessage('grace@example.com', [
      item('2026-11-28T12:00:00.000Z', false),
      item('2026-11-27T12:00:00.000Z', true),
    ]);
    expectValidBlockKit(message);
    const body = texts(message.blocks)[1] ?? '';
    expect(body.split('\n')).toHaveLength(2);
    expect(body).toContain(`<!date^${Date.parse('2026-11-28T12:00:00.000Z') / 1000}^`);
    expect(body).toContain('Consent page off');
    expect(buttons(message.blocks)[0]?.url).toBe(FIX);
  });

  it('says there is nothing yet when the user was never checked', () => {
    expect(buildHistoryMessage('x@example.com', []).text).toContain('No stored checks for x@example.com');
  });
});

describe('buildTeamMessage', () => {
  it('returns the counts, one line per company-wide cause with its count, per-user lines, and the longest broken', () => {
    const base = {
      exists: true,
      valid: false,
      status: 'INVALID' as const,
      checkedAt: '2026-11-28T12:00:00.000Z',
      gongRequestId: 'g',
      source: 'sweep',
      requestId: 'r',
    };
    const consent = Array.from({ length: 30 }, (_, i) => ({
      ...base,
      email: `rep${i}@example.com`,
      since: `2026-11-${String(10 + (i % 10)).padStart(2, '0')}T12:00:00.000Z`,
      userFacingError: 'The Gong consent page is not enabled in your company. Contact your Gong Admin.',
      fixUrl: FIX,
    }));
    const calendar = {
      ...base,
      email: 'linus@example.com',
      since: '2026-11-01T12:00:00.000Z',
      userFacingError: 'You have not connected your calendar.',
      fixUrl: 'https://us-12345.app.gong.io/settings/personal/calendar',
    };
    const broken = [...consent, calendar];
    const message = buildTeamMessage(
      {
        counts: { OK: 7, INVALID: 31, NOT_IN_GONG: 0 },
        problems: groupByCause(broken),
        broken: [calendar, ...consent.slice(0, 3)],
      },
      { teamPageUrl: 'https://api.example.com/' },
    );
    expectValidBlockKit(message);
    expect(message.text).toMatch(
      /^Team status: 7 can be recorded, 31 need fixing, 0 not in Gong\n30 × The Gong consent page/,
    );
    const all = texts(message.blocks).join('\n');
    expect(texts(message.blocks)[0]).toContain('38 users');
    expect(all.match(/consent page is not enabled/g)).toHaveLength(1);
    expect(all).toContain(
      `⚠️ *30 users* — The Gong consent page is not enabled in your company. Contact your Gong Admin. <${FIX}|Fix it>`,
    );
    expect(all).not.toContain('rep0@example.com*');
    expect(all).toContain('⚠️ *linus@example.com* — You have not connected your calendar.');
    expect(all).toContain('Broken the longest: *linus@example.com*, since <!date^');
    expect(all).toContain('<https://api.example.com/|team-health page>');
  });
});

describe('buildHelpMessage', () => {
  it('returns usage for every subcommand', () => {
    const { text } = buildHelpMessage();
    for (const usage of ['/gong-status`', '/gong-status a@example.com', 'history', 'team', 'help']) {
      expect(text).toContain(usage);
    }
  });
});
