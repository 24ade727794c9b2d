import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createGongRequester, parseRetryAfter } from '#lib/gong/requester.ts';

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

describe('createGongRequester', () => {
  it('returns a failure by the deadline when Gong hangs longer than the per-request timeout', async () => {
    // A Gong that never answers: only the abort signal ends the call.
    const hang: typeof fetch = (_url, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    const request = createGongRequester({
      credentials: async () => ({
        kind: 'basic',
        accessKey: 'k',
        accessKeySecret: 's',
        baseUrl: 'http://gong.invalid',
      }),
      pacer: { acquire: async () => Date.now(), pauseUntil: async () => undefined },
      logger: new Logger({ logLevel: 'SILENT' }),
      fetch: hang,
      timeoutMs: 10_000,
    });
    const deadline = Date.now() + 300;

    const response = await request({
      method: 'POST',
      path: '/v2/meetings/integration/status',
      body: {},
      deadline,
    });

    expect(response).toMatchObject({ kind: 'failed', code: 'GONG_UNAVAILABLE' });
    expect(Date.now()).toBeLessThan(deadline + 200);
  });
});
