import type { Caller } from '#lib/auth/verify-token.ts';
import { normaliseEmail } from '#lib/check/emails.ts';

/** What a request to the HTTP API asks for, as far as who may ask is concerned. */
export type AccessRequest =
  | { route: 'check'; emails: readonly string[] }
  | { route: 'latest' | 'history'; email: string }
  | { route: 'list' | 'problems' | 'stats' | 'csv' };

/** The caller may not do this; nothing was checked or read. */
export class ForbiddenError extends Error {
  override name = 'ForbiddenError';
  readonly statusCode = 403;
  readonly code = 'FORBIDDEN';
}

const MEMBER_MAY =
  'a member may check, and read the latest result and history of, only the email in their token';

/**
 * Throws ForbiddenError unless the caller may make the request (README "Who may call"): an admin
 * may do anything; a member only check, read the latest result and the history of their own email.
 */
export function authorize(caller: Caller, request: AccessRequest): void {
  if (caller.kind === 'admin') return;
  const own = caller.email ? normaliseEmail(caller.email) : undefined;
  if (!own) throw new ForbiddenError(`The token carries no email, so ${MEMBER_MAY}: nothing`);
  switch (request.route) {
    case 'check': {
      const others = request.emails.filter((email) => normaliseEmail(email) !== own);
      if (others.length > 0)
        throw new ForbiddenError(`Only admins may check other users: ${MEMBER_MAY} (${own})`);
      return;
    }
    case 'latest':
    case 'history':
      if (normaliseEmail(request.email) !== own)
        throw new ForbiddenError(`Only admins may read other users: ${MEMBER_MAY} (${own})`);
      return;
    case 'list':
    case 'problems':
    case 'stats':
    case 'csv':
      throw new ForbiddenError(`Only admins may read the team's ${request.route}: ${MEMBER_MAY} (${own})`);
  }
}
