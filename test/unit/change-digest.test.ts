import { describe, expect, it } from 'vitest';
import { type ChangeEvent, netChanges } from '#lib/history/change-log.ts';
import { buildChangeDigest, buildNudgeMessage } from '#lib/slack/digest.ts';
import { expectValidBlockKit } from '../support/block-kit.ts';

const FIX_URL = 'https://us-12345.app.gong.io/settings/personal/calendar';

function event(email: string, overrides: Partial<ChangeEvent> = {}): ChangeEvent {
  return {
    email,
    kind: 'broke',
    from: 'OK',
    to: 'INVALID',
    at: '2026-11-28T06:00:00.000Z',
    userFacingError: 'You have not connected Gong to your calendar.',
    fixUrl: FIX_URL,
    source: 'sweep',
    requestId: 'r1',
    ...overrides,
  };
}

const notInGong = (email: string): ChangeEvent => {
  const { userFacingError: _error, fixUrl: _fixUrl, ...rest } = event(email, { to: 'NOT_IN_GONG' });
  return rest;
};

const fixedEvent = (email: string, at = '2026-11-28T06:00:00.000Z') =>
  event(email, { kind: 'fixed', from: 'INVALID', to: 'OK', at });

describe('buildChangeDigest', () => {
  it('returns a header, one section per newly broken user with a Fix it button, the fixed, and the counts', () => {
    const message = buildChangeDigest({
      broke: [event('a@example.com'), notInGong('b@example.com')],
      fixed: [fixedEvent('c@example.com')],
      stillBroken: { invalid: 3, notInGong: 1 },
      checked: 250,
    });

    expectValidBlockKit(message, /^(fix-it|learn-more):/);
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: expect.objectContaining({ text: 'Gong recording: 2 can no longer be recorded, 1 fixed' }),
    });
    const sections = message.blocks.filter((block) => block.type === 'section');
    expect(sections[0]).toMatchObject({
      text: { text: expect.stringContaining('You have not connected Gong to your calendar.') },
      accessory: { type: 'button', url: FIX_URL, style: 'primary' },
    });
    expect(sections[1]).not.toHaveProperty('accessory');
    expect(sections[1]?.text.text).toContain('Gong no longer knows this email.');
    expect(sections[2]?.text.text).toBe('✅ *Fixed:* *c@example.com*');
    expect(JSON.stringify(message.blocks.at(-1))).toContain('4 still broken');
    expect(message.text).toContain('a@example.com');
  });

  it('escapes Slack mrkdwn control characters in Gong text and refuses non-http links', () => {
    const message = buildChangeDigest({
      broke: [event('x@example.com', { userFacingError: 'Use <b> & co', fixUrl: 'javascript:alert(1)' })],
      fixed: [],
      stillBroken: { invalid: 1, notInGong: 0 },
      checked: 1,
    });

    expectValidBlockKit(message, /^(fix-it|learn-more):/);
    const section = message.blocks.find((block) => block.type === 'section');
    expect(section).toMatchObject({ text: { text: expect.stringContaining('Use &lt;b&gt; &amp; co') } });
    expect(section).not.toHaveProperty('accessory');
  });

  it('stays within 50 blocks and says how many more when hundreds broke', () => {
    const broke = Array.from({ length: 300 }, (_, i) => event(`rep${i}@example.com`));
    const fixed = Array.from({ length: 400 }, (_, i) => fixedEvent(`long-name-number-${i}@example.com`));

    const message = buildChangeDigest({
      broke,
      fixed,
      stillBroken: { invalid: 300, notInGong: 0 },
      checked: 10_000,
    });

    expectValidBlockKit(message, /^(fix-it|learn-more):/);
    expect(JSON.stringify(message.blocks)).toContain('…and 255 more newly broken');
    expect(JSON.stringify(message.blocks)).toMatch(/ and \d+ more/);
    expect(message.text.length).toBeLessThanOrEqual(3000);
  });
});

describe('buildNudgeMessage', () => {
  it('returns Gong message, Fix it and Learn more buttons and the date they broke', () => {
    const message = buildNudgeMessage({
      email: 'rep@example.com',
      since: '2026-11-25T06:00:00.000Z',
      userFacingError: 'Connect your calendar.',
      fixUrl: FIX_URL,
      helpUrl: 'https://help.gong.io/docs/x',
    });

    expectValidBlockKit(message, /^(fix-it|learn-more):/);
    expect(message.blocks[0]).toMatchObject({
      type: 'section',
      text: { text: expect.stringContaining('Connect your calendar.') },
    });
    expect(message.blocks[1]).toMatchObject({
      type: 'actions',
      elements: [
        { text: { text: 'Fix it' }, url: FIX_URL },
        { text: { text: 'Learn more' }, url: 'https://help.gong.io/docs/x' },
      ],
    });
    expect(JSON.stringify(message.blocks[2])).toContain('<!date^1795586400^{date_short_pretty}|2026-11-25>');
  });
});

describe('netChanges', () => {
  it('returns a user who broke and one who was fixed, each once', () => {
    const changes = netChanges([
      fixedEvent('c@example.com'),
      event('a@example.com'),
      event('a@example.com', { from: 'INVALID', to: 'NOT_IN_GONG', at: '2026-11-28T07:00:00.000Z' }),
    ]);

    expect(changes.broke.map((e) => [e.email, e.to])).toEqual([['a@example.com', 'NOT_IN_GONG']]);
    expect(changes.fixed.map((e) => e.email)).toEqual(['c@example.com']);
  });

  it('leaves out a user who broke and was fixed again within the window', () => {
    const changes = netChanges([
      fixedEvent('a@example.com', '2026-11-28T08:00:00.000Z'),
      event('a@example.com', { at: '2026-11-28T07:00:00.000Z' }),
    ]);

    expect(changes).toEqual({ broke: [], fixed: [] });
  });
});
