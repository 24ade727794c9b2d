import { describe, expect, it } from 'vitest';
import { roleOfToken } from '../../web/claims.ts';

const jwt = (claims: Record<string, unknown>) =>
  `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('roleOfToken', () => {
  it('returns admin for the admin scope or the admins group, as the API decides', () => {
    expect(roleOfToken(jwt({ scope: 'openid email gong-status/admin' }))).toBe('admin');
    expect(roleOfToken(jwt({ 'cognito:groups': ['gong-status-admins'] }))).toBe('admin');
    expect(roleOfToken(jwt({ groups: ['other', 'gong-status-admins'] }))).toBe('admin');
  });

  it('returns member for any other readable token, undefined for one it cannot read', () => {
    expect(roleOfToken(jwt({ scope: 'openid email', email: 'grace@example.com' }))).toBe('member');
    expect(roleOfToken(jwt({ scope: 'gong-status/admins' }))).toBe('member');
    expect(roleOfToken('opaque-token')).toBeUndefined();
    expect(roleOfToken('a.%%%.c')).toBeUndefined();
  });
});
