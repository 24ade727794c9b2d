/** Which view the page shows first; the API alone decides what a caller may read. */
export type Role = 'admin' | 'member';

const ADMIN_SCOPE = 'gong-status/admin';
const ADMIN_GROUP = 'gong-status-admins';

/** admin or member from a JWT's scope and group claims; undefined when the token cannot be read. */
export function roleOfToken(token: string): Role | undefined {
  const payload = token.split('.')[1];
  if (token.split('.').length !== 3 || !payload) return undefined;
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(atob(payload.replaceAll('-', '+').replaceAll('_', '/'))) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const list = (value: unknown): string[] =>
    Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(/[\s,[\]]+/) : [];
  const admin =
    list(claims.scope).includes(ADMIN_SCOPE) ||
    [...list(claims['cognito:groups']), ...list(claims.groups)].includes(ADMIN_GROUP);
  return admin ? 'admin' : 'member';
}
