import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import { type CallPacer, SlotUnavailableError } from './call-pacer.ts';
import type { GongCredentialSource, GongCredentials } from './gong-credentials.ts';
import type { CheckFailure } from './report.ts';

export const STATUS_PATH = '/v2/meetings/integration/status';
/** Gong's documented cap on emails per call. */
export const MAX_EMAILS_PER_CALL = 100;

/** One user as Gong answered, with the id of the Gong request that answered. */
export interface GongUserStatus {
  email: string;
  exists: boolean;
  valid: boolean;
  userFacingError?: string;
  fixUrl?: string;
  helpUrl?: string;
  gongRequestId: string;
  answeredAt: number;
}

export interface GongCheckOutcome {
  statuses: GongUserStatus[];
  failures: CheckFailure[];
}

export interface GongClient {
  /** Asks Gong about up to 100 emails in one paced call (with retries); every email ends in statuses or failures. */
  checkBatch(emails: string[], options: { deadline: number }): Promise<GongCheckOutcome>;
}

interface GongClientOptions {
  credentials: GongCredentialSource;
  pacer: CallPacer;
  logger: Logger;
  fetch?: typeof fetch;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Retries after 5xx, timeouts and network errors. */
  maxRetries?: number;
  /** Retries after 429 (each waits Retry-After). */
  maxRateLimitRetries?: number;
  backoffBaseMs?: number;
}

const optionalText = z.pipe(
  z.nullish(z.string()),
  z.transform((value) => value ?? undefined),
);
const answerSchema = z.object({
  requestId: z.optional(z.string()),
  users: z.array(
    z.object({
      email: z.string(),
      exists: z.boolean(),
      // Gong may leave `valid` out for users it does not know.
      valid: z.optional(z.boolean()),
      userFacingError: optionalText,
      fixUrl: optionalText,
      helpUrl: optionalText,
    }),
  ),
});
const errorSchema = z.object({ requestId: z.optional(z.string()), errors: z.optional(z.array(z.string())) });

type Attempt =
  | { kind: 'answer'; body: unknown; gongRequestId: string }
  | { kind: 'status'; status: number; body: unknown; gongRequestId: string; retryAfterSeconds?: number }
  | { kind: 'network'; reason: string };

/** A client for Gong's integration-status endpoint that never drops an email. */
export function createGongClient(options: GongClientOptions): GongClient {
  const http = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetries = options.maxRetries ?? 3;
  const maxRateLimitRetries = options.maxRateLimitRetries ?? 5;
  const backoffBaseMs = options.backoffBaseMs ?? 250;
  const { logger, pacer } = options;

  async function send(credentials: GongCredentials, emails: string[]): Promise<Attempt> {
    let response: Response;
    try {
      response = await http(`${credentials.baseUrl}${STATUS_PATH}`, {
        method: 'POST',
        headers: { authorization: authorizationOf(credentials), 'content-type': 'application/json' },
        body: JSON.stringify({ emails }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error: unknown) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      return {
        kind: 'network',
        reason: timedOut ? `no answer within ${timeoutMs} ms` : networkReason(error),
      };
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    const gongRequestId = requestIdOf(body) ?? response.headers.get('x-traceid') ?? 'unknown';
    if (response.status === 200) return { kind: 'answer', body, gongRequestId };
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    return {
      kind: 'status',
      status: response.status,
      body,
      gongRequestId,
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
    };
  }

  async function checkBatch(emails: string[], deadline: number): Promise<GongCheckOutcome> {
    const fail = (
      code: string,
      message: string,
      extra: { retryAfterSeconds?: number } = {},
    ): GongCheckOutcome => ({
      statuses: [],
      failures: emails.map((email) => ({ email, code, message, ...extra })),
    });
    let transientRetries = 0;
    let rateLimitRetries = 0;
    let refreshedCredentials = false;
    for (;;) {
      let credentials: GongCredentials;
      try {
        credentials = await options.credentials(refreshedCredentials ? { forceFetch: true } : {});
      } catch (error: unknown) {
        return fail(
          'GONG_CREDENTIALS',
          error instanceof Error ? error.message : 'Gong credentials unavailable',
        );
      }
      try {
        await pacer.acquire(deadline);
      } catch (error: unknown) {
        if (error instanceof SlotUnavailableError) {
          return fail('GONG_RATE_LIMITED', `Gong call budget exhausted: ${error.message}`, {
            retryAfterSeconds: Math.ceil(error.waitMs / 1000),
          });
        }
        throw error;
      }
      const attempt = await send(credentials, emails);

      if (attempt.kind === 'answer') return matchAnswer(emails, attempt.body, attempt.gongRequestId);

      const wait = async (
        ms: number,
        onLate: () => GongCheckOutcome,
      ): Promise<GongCheckOutcome | undefined> => {
        if (Date.now() + ms >= deadline) return onLate();
        await sleep(ms);
        return undefined;
      };

      if (attempt.kind === 'network') {
        if (transientRetries >= maxRetries) {
          return fail('GONG_UNAVAILABLE', `Gong did not answer POST ${STATUS_PATH}: ${attempt.reason}`);
        }
        const failed = await wait(backoff(transientRetries++), () =>
          fail(
            'GONG_UNAVAILABLE',
            `Gong did not answer POST ${STATUS_PATH} (${attempt.reason}); no time left to retry`,
          ),
        );
        if (failed) return failed;
        continue;
      }

      const { status, gongRequestId } = attempt;
      const said = `Gong answered ${status} to POST ${STATUS_PATH} (requestId ${gongRequestId})`;
      const gongErrors = errorSchema.safeParse(attempt.body).data?.errors ?? [];
      const detail = gongErrors.length > 0 ? `: ${gongErrors.join('; ')}` : '';
      if (status === 429) {
        const seconds = attempt.retryAfterSeconds ?? 1;
        pacer.pauseUntil(Date.now() + seconds * 1000);
        logger.warn('Gong rate limited us', { gongRequestId, retryAfterSeconds: seconds });
        if (rateLimitRetries >= maxRateLimitRetries) {
          return fail('GONG_RATE_LIMITED', `${said}; gave up after ${rateLimitRetries} retries`, {
            retryAfterSeconds: seconds,
          });
        }
        rateLimitRetries++;
        const failed = await wait(seconds * 1000, () =>
          fail('GONG_RATE_LIMITED', `${said}: retry after ${seconds} s, beyond this invocation's time`, {
            retryAfterSeconds: seconds,
          }),
        );
        if (failed) return failed;
        continue;
      }
      if (status >= 500 || status === 408) {
        logger.warn('Gong failed; retrying', { gongRequestId, status, attempt: transientRetries + 1 });
        if (transientRetries >= maxRetries) return fail('GONG_UNAVAILABLE', `${said}${detail}`);
        const failed = await wait(backoff(transientRetries++), () =>
          fail('GONG_UNAVAILABLE', `${said}${detail}; no time left to retry`),
        );
        if (failed) return failed;
        continue;
      }
      if (status === 401) {
        if (!refreshedCredentials) {
          refreshedCredentials = true;
          logger.warn('Gong refused our credentials; re-reading the secret once', { gongRequestId });
          continue;
        }
        return fail(
          'GONG_AUTH',
          `${said}: the access key or token was refused, also after re-reading the secret`,
        );
      }
      if (status === 403) {
        return fail(
          'GONG_FORBIDDEN',
          `${said}${detail}: the integration-status endpoint is in limited release, or the credentials lack its scope`,
        );
      }
      if (status === 400) {
        // A 400 is our bug (Gong rejected what we sent): log it loudly, never retry it.
        logger.error('Gong rejected our request', {
          gongRequestId,
          errors: gongErrors,
          emails: emails.length,
        });
        return fail('GONG_BAD_REQUEST', `${said}${detail}`);
      }
      return fail('GONG_UNEXPECTED_STATUS', `${said}${detail}`);
    }
  }

  function backoff(retry: number): number {
    // Full jitter: retries from many containers spread out instead of arriving together.
    return randomInt(0, Math.min(8_000, backoffBaseMs * 2 ** (retry + 1)) + 1);
  }

  function matchAnswer(emails: string[], body: unknown, gongRequestId: string): GongCheckOutcome {
    const parsed = answerSchema.safeParse(body);
    if (!parsed.success) {
      logger.error('Gong answered in an unexpected shape', {
        gongRequestId,
        issues: parsed.error.issues.length,
      });
      return {
        statuses: [],
        failures: emails.map((email) => ({
          email,
          code: 'GONG_BAD_RESPONSE',
          message: `Gong's answer to POST ${STATUS_PATH} (requestId ${gongRequestId}) is not in the documented shape`,
        })),
      };
    }
    // Gong documents no order: match by email, never by position.
    const byEmail = new Map(parsed.data.users.map((user) => [user.email.trim().toLowerCase(), user]));
    const answeredAt = Date.now();
    const outcome: GongCheckOutcome = { statuses: [], failures: [] };
    for (const email of emails) {
      const user = byEmail.get(email);
      if (!user) {
        outcome.failures.push({
          email,
          code: 'GONG_INCOMPLETE_ANSWER',
          message: `Gong's answer (requestId ${gongRequestId}) did not include this email`,
        });
        continue;
      }
      outcome.statuses.push({
        email,
        exists: user.exists,
        valid: user.exists && user.valid === true,
        ...(user.userFacingError === undefined ? {} : { userFacingError: user.userFacingError }),
        ...(user.fixUrl === undefined ? {} : { fixUrl: user.fixUrl }),
        ...(user.helpUrl === undefined ? {} : { helpUrl: user.helpUrl }),
        gongRequestId,
        answeredAt,
      });
    }
    return outcome;
  }

  return {
    async checkBatch(emails, { deadline }) {
      if (emails.length > MAX_EMAILS_PER_CALL) {
        throw new RangeError(
          `a Gong call takes at most ${MAX_EMAILS_PER_CALL} emails (got ${emails.length})`,
        );
      }
      return checkBatch(emails, deadline);
    },
  };
}

/** The Authorization header for the credentials: Basic for an access key pair, Bearer for a token. */
export function authorizationOf(credentials: GongCredentials): string {
  return credentials.kind === 'bearer'
    ? `Bearer ${credentials.accessToken}`
    : `Basic ${Buffer.from(`${credentials.accessKey}:${credentials.accessKeySecret}`).toString('base64')}`;
}

function requestIdOf(body: unknown): string | undefined {
  if (
    body !== null &&
    typeof body === 'object' &&
    'requestId' in body &&
    typeof body.requestId === 'string'
  ) {
    return body.requestId;
  }
  return undefined;
}

/** Retry-After in seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  // An HTTP date names its day and month; anything else (a negative number, say) is unreadable.
  const at = /[a-z]/i.test(header) ? Date.parse(header) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function networkReason(error: unknown): string {
  if (!(error instanceof Error)) return 'network error';
  const cause =
    error.cause instanceof Error
      ? ` (${(error.cause as NodeJS.ErrnoException).code ?? error.cause.name})`
      : '';
  return `${error.message}${cause}`;
}
