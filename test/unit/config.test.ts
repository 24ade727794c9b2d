import { describe, expect, it } from 'vitest';
import { readCoreConfig } from '#lib/config.ts';

describe('readCoreConfig', () => {
  it('prefers the secret when GONG_SECRET_ID is set', () => {
    const config = readCoreConfig({ HISTORY_TABLE: 't', GONG_SECRET_ID: 'gong', GONG_ACCESS_KEY: 'k' });
    expect(config.gong).toEqual({ kind: 'secret', secretId: 'gong', maxAgeSeconds: 300 });
    expect(config.maxRps).toBe(3);
  });

  it('takes credentials from the environment, defaulting the base URL', () => {
    const config = readCoreConfig({ HISTORY_TABLE: 't', GONG_ACCESS_KEY: 'k', GONG_ACCESS_KEY_SECRET: 's' });
    expect(config.gong).toEqual({
      kind: 'env',
      accessKey: 'k',
      accessKeySecret: 's',
      baseUrl: 'https://api.gong.io',
    });
  });

  it('fails naming the variable that is missing or wrong', () => {
    expect(() => readCoreConfig({ GONG_SECRET_ID: 'g' })).toThrow(
      'Environment variable HISTORY_TABLE is required',
    );
    expect(() => readCoreConfig({ HISTORY_TABLE: 't' })).toThrow(/Set GONG_SECRET_ID, or GONG_ACCESS_KEY/);
    expect(() => readCoreConfig({ HISTORY_TABLE: 't', GONG_ACCESS_KEY: 'k' })).toThrow(
      /GONG_ACCESS_KEY_SECRET is required/,
    );
    expect(() => readCoreConfig({ HISTORY_TABLE: 't', GONG_SECRET_ID: 'g', GONG_MAX_RPS: 'fast' })).toThrow(
      'Environment variable GONG_MAX_RPS must be a positive number (got "fast")',
    );
  });
});
