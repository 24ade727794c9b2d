import { describe, expect, it } from 'vitest';
import { parseGongSecret } from '#lib/gong/credentials.ts';

describe('parseGongSecret', () => {
  it('reads an access key pair, defaulting the base URL to Gong US', () => {
    expect(parseGongSecret('s', JSON.stringify({ accessKey: 'k', accessKeySecret: 'v' }))).toEqual({
      kind: 'basic',
      accessKey: 'k',
      accessKeySecret: 'v',
      baseUrl: 'https://api.gong.io',
    });
  });

  it('reads an OAuth token with its tenant base URL, without a trailing slash', () => {
    expect(
      parseGongSecret('s', JSON.stringify({ accessToken: 't', baseUrl: 'https://us-12345.api.gong.io/' })),
    ).toEqual({ kind: 'bearer', accessToken: 't', baseUrl: 'https://us-12345.api.gong.io' });
  });

  it('names the secret and the fields present, never a value, when a field is missing', () => {
    const attempt = () => parseGongSecret('prod/gong', JSON.stringify({ accessKey: 'AKIA-VISIBLE' }));
    expect(attempt).toThrow(/Secret prod\/gong must hold .*fields present: accessKey\)/);
    expect(attempt).toThrow(expect.objectContaining({ name: 'ConfigError' }));
    expect(attempt).not.toThrow(/AKIA-VISIBLE/);
  });

  it('does not quote the text of a secret that is not JSON', () => {
    const attempt = () => parseGongSecret('prod/gong', 'hunter2-not-json');
    expect(attempt).toThrow('Secret prod/gong is not valid JSON');
    expect(attempt).not.toThrow(/hunter2/);
  });
});
