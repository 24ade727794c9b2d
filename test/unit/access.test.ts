import { describe, expect, it } from 'vitest';
import { type AccessRequest, authorize, ForbiddenError } from '#lib/auth/access.ts';
import { type Caller, callerFromClaims, UnauthorizedError } from '#lib/auth/verify-token.ts';

const ALL_ROUTES: AccessRequest[] = [
  { route: 'check', emails: ['someone@example.com'] },
  { route: 'latest', email: 'someone@example.com' },
  { route: 'history', email: 'someone@example.com' },
  { route: 'list' },
  { route: 'problems' },
  { route: 'stats' },
  { route: 'csv' },
];

function forbidden(caller: Caller, request: AccessRequest): ForbiddenError {
  try {
    authorize(caller, request);
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(ForbiddenError);
    return error as ForbiddenError;
  }
  throw new Error(`expected ${request.route} to be forbidden`);
}

describe('callerFromClaims', () => {
  it('returns an admin when the scope includes gong-status/admin', () => {
    expect(callerFromClaims({ sub: 's1', scope: 'openid email gong-status/admin' })).toEqual({
      kind: 'admin',
      subject: 's1',
    });
  });

  it('returns an admin when groups includes gong-status-admins', () => {
    expect(callerFromClaims({ sub: 's2', email: 'A@x.com', groups: ['gong-status-admins'] })).toEqual({
      kind: 'admin',
      email: 'a@x.com',
      subject: 's2',
    });
  });

  it('returns an admin when cognito:groups is the string API Gateway passes', () => {
    expect(callerFromClaims({ sub: 's3', 'cognito:groups': '[staff gong-status-admins]' }).kind).toBe(
      'admin',
    );
    expect(callerFromClaims({ sub: 's3', 'cognito:groups': '["gong-status-admins"]' }).kind).toBe('admin');
    expect(callerFromClaims({ sub: 's3', 'cognito:groups': 'gong-status-admins' }).kind).toBe('admin');
  });

  it('returns a member when no scope or group says admin', () => {
    expect(
      callerFromClaims({
        sub: 's4',
        email: ' Ada@Example.com ',
        scope: 'openid gong-status/admins gong-status',
        'cognito:groups': '[gong-status-admins-not]',
      }),
    ).toEqual({ kind: 'member', email: 'ada@example.com', subject: 's4' });
  });

  it('throws UnauthorizedError when there is no subject', () => {
    expect(() => callerFromClaims({ email: 'ada@example.com' })).toThrow(UnauthorizedError);
  });
});

describe('authorize', () => {
  const admin: Caller = { kind: 'admin', subject: 'root' };
  const ada: Caller = { kind: 'member', email: 'ada@example.com', subject: 'ada' };

  it('returns for an admin on every route', () => {
    for (const request of ALL_ROUTES) expect(() => authorize(admin, request)).not.toThrow();
  });

  it('returns for a member on their own email, whatever its case and spaces', () => {
    expect(() =>
      authorize(ada, { route: 'check', emails: [' ADA@example.com', 'ada@example.com'] }),
    ).not.toThrow();
    expect(() => authorize(ada, { route: 'latest', email: 'Ada@Example.com' })).not.toThrow();
    expect(() => authorize(ada, { route: 'history', email: 'ada@example.com ' })).not.toThrow();
  });

  it('throws ForbiddenError when a member checks another email, even beside their own', () => {
    const error = forbidden(ada, { route: 'check', emails: ['ada@example.com', 'grace@example.com'] });
    expect(error.statusCode).toBe(403);
    expect(error.code).toBe('FORBIDDEN');
    expect(error.message).toMatch(/only the email in their token \(ada@example\.com\)/);
    expect(error.message).not.toContain('grace@example.com');
  });

  it('throws ForbiddenError when a member reads another user', () => {
    expect(forbidden(ada, { route: 'latest', email: 'grace@example.com' }).message).toMatch(/Only admins/);
    expect(forbidden(ada, { route: 'history', email: 'grace@example.com' }).statusCode).toBe(403);
  });

  it('throws ForbiddenError when a member lists, reads problems, stats or the CSV', () => {
    for (const route of ['list', 'problems', 'stats', 'csv'] as const) {
      expect(forbidden(ada, { route }).message).toContain(`team's ${route}`);
    }
  });

  it('throws ForbiddenError on every route when a member has no email claim', () => {
    const nameless: Caller = { kind: 'member', subject: 'svc' };
    for (const request of ALL_ROUTES) expect(forbidden(nameless, request).message).toMatch(/no email/);
  });
});
