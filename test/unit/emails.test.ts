import { describe, expect, it } from 'vitest';
import { isEmail, normaliseEmail, parseEmailList } from '#lib/check/emails.ts';

describe('parseEmailList', () => {
  it('returns trimmed, lower-cased, de-duplicated emails in first-seen order', () => {
    expect(parseEmailList([' Ada@Example.com', 'grace@example.com', 'ADA@example.COM '])).toEqual([
      'ada@example.com',
      'grace@example.com',
    ]);
  });

  it('names every offending entry with its index when some are not emails', () => {
    expect(() => parseEmailList(['ok@example.com', 'nope', null, 7, 'a@b'])).toThrow(
      '"emails" has entries that are not emails: #1 "nope", #2 (null), #3 (number), #4 "a@b"',
    );
  });

  it('shortens the list of offenders after ten', () => {
    const bad = Array.from({ length: 13 }, (_, i) => `bad${i}`);
    expect(() => parseEmailList(bad)).toThrow(/#9 "bad9" and 3 more$/);
  });

  it('throws a ValidationError with a code for a missing or empty list', () => {
    expect(() => parseEmailList(undefined)).toThrow(
      expect.objectContaining({ name: 'ValidationError', code: 'EMAILS_MISSING' }),
    );
    expect(() => parseEmailList([])).toThrow(expect.objectContaining({ code: 'EMAILS_EMPTY' }));
  });

  it('counts distinct emails against the cap', () => {
    const twice = ['a@example.com', 'A@example.com', 'b@example.com'];
    expect(parseEmailList(twice, { max: 2 })).toHaveLength(2);
    expect(() => parseEmailList([...twice, 'c@example.com'], { max: 2 })).toThrow(
      /3 distinct emails; at most 2/,
    );
  });
});

describe('isEmail', () => {
  it('accepts ordinary addresses and refuses the rest', () => {
    expect(isEmail(normaliseEmail('First.Last+tag@sub.example.co.uk'))).toBe(true);
    for (const value of [
      '',
      'plain',
      '@example.com',
      'a@',
      'a b@example.com',
      `${'x'.repeat(250)}@example.com`,
    ]) {
      expect(isEmail(value)).toBe(false);
    }
  });
});
