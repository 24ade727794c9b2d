import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../lib/gong-request.ts';

describe('parseRetryAfter', () => {
  it('reads delta-seconds, rounding up', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter('0.2')).toBe(1);
    expect(parseRetryAfter('0')).toBe(0);
  });

  it('reads an HTTP date as the seconds until then', () => {
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(parseRetryAfter(inTenSeconds)).toBeGreaterThanOrEqual(9);
    expect(parseRetryAfter(inTenSeconds)).toBeLessThanOrEqual(11);
  });

  it('returns undefined for a missing or unreadable header', () => {
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('')).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter('-5')).toBeUndefined();
  });
});
