import { describe, expect, it } from 'vitest';
import { readPageSettings } from '../../functions/wiring/config.ts';

describe('readPageSettings', () => {
  it('returns undefined when PAGE_CLIENT_ID is unset, so api serves no page', () => {
    expect(readPageSettings({ AUTH_ISSUER: 'https://issuer.example' })).toBeUndefined();
  });

  it('returns the issuer of AUTH_ISSUER, the id token flag and the extra origins when given', () => {
    expect(
      readPageSettings({
        PAGE_CLIENT_ID: ' abc123 ',
        AUTH_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x',
        PAGE_USE_ID_TOKEN: 'true',
        PAGE_CONNECT_ORIGINS: 'https://pool.auth.us-east-1.amazoncognito.com, ',
      }),
    ).toEqual({
      config: {
        authority: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x',
        clientId: 'abc123',
        useIdToken: true,
      },
      connectOrigins: ['https://pool.auth.us-east-1.amazoncognito.com'],
    });
  });

  it('prefers PAGE_AUTHORITY and fails by name when there is no issuer or it is not http(s)', () => {
    expect(
      readPageSettings({
        PAGE_CLIENT_ID: 'p',
        PAGE_AUTHORITY: 'http://127.0.0.1:3020',
        AUTH_ISSUER: 'https://x',
      })?.config.authority,
    ).toBe('http://127.0.0.1:3020');
    expect(() => readPageSettings({ PAGE_CLIENT_ID: 'p' })).toThrow(/PAGE_AUTHORITY or AUTH_ISSUER/);
    expect(() => readPageSettings({ PAGE_CLIENT_ID: 'p', PAGE_AUTHORITY: 'javascript:alert(1)' })).toThrow(
      /http\(s\) URLs/,
    );
  });
});
