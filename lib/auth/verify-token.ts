import { createRemoteJWKSet, errors, type JWTPayload, jwtVerify } from 'jose';
import { normaliseEmail } from '#lib/check/emails.ts';

/** The scope and group that make a caller an admin (README "Who may call"). */
export const ADMIN_SCOPE = 'gong-status/admin';
export const ADMIN_GROUP = 'gong-status-admins';

/** Who is calling: an admin may call every route, a member only for the email in its token. */
export interface Caller {
  kind: 'admin' | 'member';
  /** Normalised (trimmed, lower-cased); absent when the token carries no `email` claim. */
  email?: string;
  /** The token's `sub`. */
  subject: string;
}

/** The token is missing, malformed, expired, or not from the issuer and audience the API accepts. */
export class UnauthorizedError extends Error {
  override name = 'UnauthorizedError';
  readonly statusCode = 401;
  readonly code = 'UNAUTHORIZED';
}

/** Where tokens must come from and whom they must be for. */
export interface TokenVerifierOptions {
  issuer: string;
  /** One audience, or several (e.g. a pool's people and service clients): the token must be for one of them. */
  audience: string | readonly string[];
  /** The issuer's `jwks_uri` (discovery); Cognito's is `<issuer>/.well-known/jwks.json`. */
  jwksUrl: string;
  /** Seconds of clock skew allowed on `exp`, `nbf`, `iat` (default 5). */
  clockToleranceSeconds?: number;
}

/** Verifies a bearer token and answers who is calling. */
export type TokenVerifier = (authorization: string | undefined) => Promise<Caller>;

// One key set per JWKS URL for the container's life: a warm invocation never refetches keys.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

/**
 * Builds a verifier whose JWKS is cached per container (jose refetches on an unknown `kid`, at
 * most every 30 s, so a rotated key is picked up). RS256 only, as API Gateway's JWT authorizer.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  let jwks = keySets.get(options.jwksUrl);
  if (!jwks) {
    jwks = createRemoteJWKSet(new URL(options.jwksUrl), { timeoutDuration: 3000 });
    keySets.set(options.jwksUrl, jwks);
  }
  const keys = jwks;
  const clockTolerance = options.clockToleranceSeconds ?? 5;
  const audiences: readonly string[] =
    typeof options.audience === 'string' ? [options.audience] : options.audience;
  return async (authorization) => {
    const token = bearerToken(authorization);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        algorithms: ['RS256'],
        clockTolerance,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error: unknown) {
      throw new UnauthorizedError(describeFailure(error), { cause: error });
    }
    // Cognito access tokens carry the app client in `client_id` and no `aud`; API Gateway's
    // authorizer accepts either, so this does too.
    if (!audiences.some((audience) => audienceMatches(payload, audience))) {
      throw new UnauthorizedError(`The bearer token is not for this API (audience ${audiences.join(', ')})`);
    }
    return callerFromClaims(payload);
  };
}

/** The token of an `Authorization: Bearer <token>` header; refuses anything else. */
export function bearerToken(authorization: string | undefined): string {
  if (!authorization?.trim())
    throw new UnauthorizedError('No bearer token: send Authorization: Bearer <token>');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
  if (!match?.[1]) throw new UnauthorizedError('The Authorization header is not "Bearer <token>"');
  return match[1];
}

function audienceMatches(payload: JWTPayload, audience: string): boolean {
  if (payload.aud !== undefined) {
    return Array.isArray(payload.aud) ? payload.aud.includes(audience) : payload.aud === audience;
  }
  return payload.client_id === audience;
}

function describeFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'The bearer token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'The bearer token is from another issuer';
    if (error.claim === 'nbf' || error.claim === 'iat') return 'The bearer token is not valid yet';
    return `The bearer token's "${error.claim}" claim is missing or wrong`;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey)
    return "The bearer token's signature does not match the issuer's keys";
  if (error instanceof errors.JOSEAlgNotAllowed) return 'The bearer token is not signed with RS256';
  if (
    error instanceof errors.JWKSTimeout ||
    (error instanceof errors.JOSEError && error.code === 'ERR_JWKS_INVALID')
  )
    return "The issuer's keys could not be read";
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'The bearer token is not a well-formed JWT';
  if (error instanceof TypeError) return "The issuer's keys could not be read";
  return 'The bearer token could not be verified';
}

/**
 * The caller from claims already verified (in AWS, API Gateway's authorizer passes
 * `requestContext.authorizer.jwt.claims`, every value a string: `scope` space-separated,
 * `cognito:groups` like "[a b]").
 */
export function callerFromClaims(claims: Record<string, unknown>): Caller {
  const subject = typeof claims.sub === 'string' && claims.sub ? claims.sub : undefined;
  if (!subject) throw new UnauthorizedError('The bearer token has no subject ("sub" claim)');
  const scopes = listClaim(claims.scope);
  const groups = [...listClaim(claims['cognito:groups']), ...listClaim(claims.groups)];
  const admin = scopes.includes(ADMIN_SCOPE) || groups.includes(ADMIN_GROUP);
  const email = typeof claims.email === 'string' ? normaliseEmail(claims.email) : '';
  return { kind: admin ? 'admin' : 'member', ...(email ? { email } : {}), subject };
}

/** A claim that is a list: an array, a space- or comma-separated string, or "[a b]" (API Gateway's rendering). */
function listClaim(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  if (typeof value !== 'string') return [];
  let text = value.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return listClaim(parsed);
    } catch {
      // Not JSON: API Gateway's "[a b]" form.
    }
    text = text.slice(1, -1);
  }
  return text.split(/[\s,]+/).filter(Boolean);
}
