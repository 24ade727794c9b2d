import { assertNever, GongUnansweredError, ResultsNotStoredError } from '#lib/check/failures.ts';
import { HttpError, ValidationError } from '#lib/errors/errors.ts';

/** What a caller may be told about an error, whichever door (JSON, SOAP, Slack) answers. */
export interface PublicError {
  statusCode: number;
  code: string;
  message: string;
  headers: Record<string, string>;
  /** Extra top-level fields of a JSON error body (the partial report). */
  extra: Record<string, unknown>;
  /** False when the caller gets the generic answer instead: the door logs the original. */
  exposed: boolean;
}

const GENERIC: PublicError = {
  statusCode: 500,
  code: 'INTERNAL',
  message: 'Internal error; quote the requestId',
  headers: {},
  extra: {},
  exposed: false,
};

/**
 * The one rule for what a caller sees (middy's `expose`): an error with a 4xx statusCode, or an
 * HttpError built to be shown, answers with its own status, code and message; anything else is a
 * bare 500 that names no internals.
 */
export function publicError(error: unknown): PublicError {
  const mapped = httpErrorOf(error) ?? error;
  if (mapped instanceof HttpError) {
    if (!mapped.expose) return GENERIC;
    const { statusCode, code, message, headers, extra } = mapped;
    return { statusCode, code, message, headers, extra, exposed: true };
  }
  if (mapped instanceof ValidationError) {
    const { statusCode, code, message } = mapped;
    return { statusCode, code, message, headers: {}, extra: {}, exposed: true };
  }
  const statusCode = clientStatusOf(mapped);
  if (statusCode !== undefined && mapped instanceof Error) {
    // middy's own errors (e.g. the router's 404) and the auth errors (401, 403) carry a statusCode
    // and a safe message; the auth errors also their code.
    const code = ownCode(mapped) ?? CODE_BY_STATUS[statusCode] ?? 'BAD_REQUEST';
    // RFC 6750: a 401 names the scheme the caller should use.
    const headers: Record<string, string> = statusCode === 401 ? { 'www-authenticate': 'Bearer' } : {};
    return { statusCode, code, message: mapped.message, headers, extra: {}, exposed: true };
  }
  return GENERIC;
}

const CODE_BY_STATUS: Record<number, string> = { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' };

function ownCode(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code) ? code : undefined;
}

/** The HTTP meaning of the domain's errors: Gong answering nobody is 502, or 503 with Retry-After when waiting will help. */
function httpErrorOf(error: unknown): HttpError | undefined {
  if (error instanceof ResultsNotStoredError) {
    return new HttpError(503, 'STORE_FAILED', error.message, {
      expose: true,
      headers: { 'retry-after': '30' },
      cause: error,
    });
  }
  if (!(error instanceof GongUnansweredError)) return undefined;
  const options = { expose: true, extra: { report: error.report }, cause: error };
  const retryAfter = { 'retry-after': String(error.retryAfterSeconds ?? 1) };
  switch (error.code) {
    case 'GONG_RATE_LIMITED':
    case 'GONG_BUDGET_SPENT':
      return new HttpError(503, error.code, error.message, { ...options, headers: retryAfter });
    case 'GONG_UNAVAILABLE':
    case 'GONG_CREDENTIALS':
    case 'GONG_AUTH':
    case 'GONG_FORBIDDEN':
    case 'GONG_BAD_REQUEST':
    case 'GONG_UNEXPECTED_STATUS':
    case 'GONG_BAD_RESPONSE':
    case 'GONG_INCOMPLETE_ANSWER':
      return new HttpError(502, 'GONG_FAILED', error.message, options);
    default:
      return assertNever(error.code);
  }
}

function clientStatusOf(error: unknown): number | undefined {
  if (
    error !== null &&
    typeof error === 'object' &&
    'statusCode' in error &&
    typeof error.statusCode === 'number' &&
    error.statusCode < 500
  ) {
    return error.statusCode;
  }
  return undefined;
}
