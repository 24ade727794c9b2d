import { describe, expect, it } from 'vitest';
import {
  context,
  escapeMrkdwn,
  fallbackText,
  header,
  isLinkable,
  linkButton,
  MAX_BUTTON_TEXT,
  MAX_FALLBACK_TEXT,
  MAX_HEADER_TEXT,
  MAX_SECTION_TEXT,
  section,
  slackDate,
  truncate,
} from '#lib/slack/block-kit.ts';
import { expectValidBlockKit } from '../support/block-kit.ts';

describe('escapeMrkdwn', () => {
  it('escapes &, < and > and leaves every other character as written', () => {
    expect(escapeMrkdwn('a & b <@U123> > *bold* _it_ `code` "q" \'s\'')).toBe(
      'a &amp; b &lt;@U123&gt; &gt; *bold* _it_ `code` "q" \'s\'',
    );
  });

  it('escapes an ampersand once, so an escaped entity shows as typed', () => {
    expect(escapeMrkdwn('&amp;')).toBe('&amp;amp;');
  });
});

describe('truncate', () => {
  it('returns the text unchanged when it is exactly at the limit', () => {
    const text = 'x'.repeat(MAX_SECTION_TEXT);
    expect(truncate(text, MAX_SECTION_TEXT)).toBe(text);
  });

  it('cuts one character over the limit to the limit, ending in an ellipsis', () => {
    const cut = truncate('x'.repeat(MAX_SECTION_TEXT + 1), MAX_SECTION_TEXT);
    expect(cut).toHaveLength(MAX_SECTION_TEXT);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('builders', () => {
  it('returns sections and contexts within 3000 characters when given more', () => {
    const long = 'y'.repeat(10_000);
    const blocks = [section(long), context(long)];
    expectValidBlockKit({ blocks, text: fallbackText([long]) });
    const [first, second] = blocks;
    expect(first?.type === 'section' && first.text.text.length).toBe(MAX_SECTION_TEXT);
    expect(second?.type === 'context' && second.elements[0]?.text.length).toBe(MAX_SECTION_TEXT);
    expect(fallbackText([long])).toHaveLength(MAX_FALLBACK_TEXT);
  });

  it('keeps a section at 3000 characters as it is', () => {
    const text = 'z'.repeat(MAX_SECTION_TEXT);
    expect(section(text)).toEqual({ type: 'section', text: { type: 'mrkdwn', text } });
  });

  it('returns a header within 150 characters and a button label within 75', () => {
    const heading = header('h'.repeat(200));
    expect(heading.type === 'header' && heading.text.text.length).toBe(MAX_HEADER_TEXT);
    const button = linkButton({ text: 'b'.repeat(76), url: 'https://example.com', actionId: 'fix-it:0' });
    expect(button.text.text).toHaveLength(MAX_BUTTON_TEXT);
    expect(button.text.text.endsWith('…')).toBe(true);
    expect(linkButton({ text: 'b'.repeat(75), url: 'https://example.com', actionId: 'a' }).text.text).toBe(
      'b'.repeat(75),
    );
  });

  it('returns a primary button only when asked, beside a section', () => {
    const primary = linkButton({
      text: 'Fix it',
      url: 'https://example.com/fix',
      actionId: 'fix-it:0',
      primary: true,
    });
    const plain = linkButton({
      text: 'Learn more',
      url: 'https://example.com/help',
      actionId: 'learn-more:0',
    });
    expect(primary.style).toBe('primary');
    expect('style' in plain).toBe(false);
    const block = section('text', { accessory: primary });
    expect(block.type === 'section' && block.accessory).toEqual(primary);
    expectValidBlockKit({ blocks: [block], text: 'text' });
  });
});

describe('isLinkable', () => {
  it('accepts http(s) URLs up to 3000 characters and refuses others', () => {
    expect(isLinkable('https://example.com/a')).toBe(true);
    expect(isLinkable(`https://example.com/${'a'.repeat(3_000 - 20)}`)).toBe(true);
    expect(isLinkable(`https://example.com/${'a'.repeat(3_000 - 19)}`)).toBe(false);
    expect(isLinkable('javascript:alert(1)')).toBe(false);
    expect(isLinkable(undefined)).toBe(false);
  });
});

describe('slackDate', () => {
  it("returns Slack's date token with a UTC fallback, with the time when asked", () => {
    expect(slackDate('2026-11-28T12:34:56.000Z')).toBe('<!date^1795869296^{date_short_pretty}|2026-11-28>');
    expect(slackDate('2026-11-28T12:34:56.000Z', { time: true })).toBe(
      '<!date^1795869296^{date_short_pretty} {time}|2026-11-28 12:34 UTC>',
    );
  });

  it('returns the text escaped when it is not a date', () => {
    expect(slackDate('<soon>')).toBe('&lt;soon&gt;');
  });
});
