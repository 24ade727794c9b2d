import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  type Caller,
  callerFromClaims,
  createTokenVerifier,
  UnauthorizedError,
} from '#lib/auth/verify-token.ts';

/**
 * Where the caller's identity comes from (README "Who may call"): `gateway` trusts the claims API
 * Gateway's JWT authorizer verified and passed in `requestContext.authorizer.jwt`; `local` verifies
 * the bearer token itself (serverless-offline only decodes tokens, so its claims prove nothing).
 */
export type AuthSetting =
  | { verify: 'gateway'; issuer?: string; audiences: string[] }
  | { verify: 'local'; issuer: string; audiences: string[]; jwksUrl: string };

/** Who sent this HTTP API event; throws UnauthorizedError when nobody verifiable did. */
export type Authenticator = (event: APIGatewayProxyEventV2) => Promise<Caller>;

interface JwtAuthorizerContext {
  jwt?: { claims?: Record<string, unknown> | null };
}

export function createAuthenticator(setting: AuthSetting): Authenticator {
  if (setting.verify === 'local') {
    const verify = createTokenVerifier({
      issuer: setting.issuer,
      audience: setting.audiences,
      jwksUrl: setting.jwksUrl,
    });
    return async (event) => verify(event.headers?.authorization);
  }
  return async (event) => {
    const authorizer = (event.requestContext as { authorizer?: JwtAuthorizerContext }).authorizer;
    const claims = authorizer?.jwt?.claims;
    // A route deployed without the JWT authorizer (or the catch-all) arrives without claims:
    // whatever its Authorization header says, nothing verified it.
    if (!claims || typeof claims !== 'object') {
      throw new UnauthorizedError('No verified bearer token: send Authorization: Bearer <token>');
    }
    return callerFromClaims(claims);
  };
}
