import { randomInt } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import { type CallPacer, SlotUnavailableError } from './call-pacer.ts';
import { isEmail, normaliseEmail } from './emails.ts';
import { authorizationOf, parseRetryAfter } from './gong-client.ts';
import type { GongCredentialSource, GongCredentials } from './gong-credentials.ts';

export const USERS_PATH = '/v2/users';

/** Gong would not list its users; `retryable` says whether trying again later may work. */
export class GongDirectoryError extends Error {
  override name = 'GongDirectoryError';
  readonly code: string;
  readonly retryable: boolean;
  constructor(code: string, message: string, options: { retryable: boolean }) {
    super(message);
    this.code = code;
    this.retryable = options.retryable;
  }
}

/** One page of Gong's company users: the active ones' emails, and the cursor of the next page. */
export interface DirectoryPage {
  emails: string[];
  cursor?: string;
}

export interface GongDirectory {
  /** One page of `GET /v2/users` (Gong pages by 100); needs the `api:users:read` scope. */
  listActiveUsers(options: { cursor?: string; deadline: number }): Promise<DirectoryPage>;
}

const pageSchema = z.object({
  requestId: z.optional(z.string()),
  records: z.optional(z.object({ cursor: z.nullish(z.string()) })),
  users: z.nullish(
    z.array(z.object({ emailAddress: z.nullish(z.string()), active: z.nullish(z.boolean()) })),
  ),
});

/** Lists Gong's users through the same deployment-wide pacer as the status checks: one budget for both. */
export function createGongDirectory(options: {
  credentials: GongCredentialSource;
  pacer: CallPacer;
  logger: Logger;
  fetch?: typeof fetch;
  timeoutMs?: number;
  maxRetries?: number;
}): GongDirectory {
  const http = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetries = options.maxRetries ?? 3;
  const { pacer, logger } = options;

  async function get(credentials: GongCredentials, cursor: string | undefined) {
    const url = new URL(`${credentials.baseUrl}${USERS_PATH}`);
    if (cursor !== undefined) url.searchParams.set('cursor', cursor);
    return http(url, {
      headers: { authorization: authorizationOf(credentials), accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  }

  return {
    async listActiveUsers({ cursor, deadline }) {
      let retries = 0;
      let refreshed = false;
      const retryLater = async (code: string, message: string, waitMs: number) => {
        if (retries >= maxRetries || Date.now() + waitMs >= deadline) {
          throw new GongDirectoryError(code, message, { retryable: true });
        }
        retries++;
        await sleep(waitMs);
      };
      for (;;) {
        const credentials = await options.credentials(refreshed ? { forceFetch: true } : {});
        try {
          await pacer.acquire(deadline);
        } catch (error: unknown) {
          if (error instanceof SlotUnavailableError) {
            throw new GongDirectoryError(
              'GONG_RATE_LIMITED',
              `Gong call budget exhausted: ${error.message}`,
              {
                retryable: true,
              },
            );
          }
          throw error;
        }
        let response: Response;
        try {
          response = await get(credentials, cursor);
        } catch (error: unknown) {
          const reason = error instanceof Error ? error.name : 'network error';
          await retryLater(
            'GONG_UNAVAILABLE',
            `Gong did not answer GET ${USERS_PATH} (${reason})`,
            backoff(retries),
          );
          continue;
        }
        const body: unknown = await response.json().catch(() => undefined);
        const said = `Gong answered ${response.status} to GET ${USERS_PATH}`;
        if (response.status === 200) {
          const parsed = pageSchema.safeParse(body);
          if (!parsed.success) {
            throw new GongDirectoryError('GONG_BAD_RESPONSE', `${said} in an undocumented shape`, {
              retryable: false,
            });
          }
          const emails = (parsed.data.users ?? [])
            .filter((user) => user.active !== false && typeof user.emailAddress === 'string')
            .map((user) => normaliseEmail(user.emailAddress as string))
            .filter(isEmail);
          const next = parsed.data.records?.cursor;
          return next ? { emails, cursor: next } : { emails };
        }
        // Gong answers 404 to a listing with nothing in it.
        if (response.status === 404) return { emails: [] };
        if (response.status === 429) {
          const seconds = parseRetryAfter(response.headers.get('retry-after')) ?? 1;
          pacer.pauseUntil(Date.now() + seconds * 1000);
          logger.warn('Gong rate limited the user listing', { retryAfterSeconds: seconds });
          await retryLater('GONG_RATE_LIMITED', said, seconds * 1000);
          continue;
        }
        if (response.status >= 500 || response.status === 408) {
          await retryLater('GONG_UNAVAILABLE', said, backoff(retries));
          continue;
        }
        if (response.status === 401 && !refreshed) {
          refreshed = true;
          continue;
        }
        if (response.status === 401) {
          throw new GongDirectoryError('GONG_AUTH', `${said}: the credentials were refused`, {
            retryable: false,
          });
        }
        if (response.status === 403) {
          throw new GongDirectoryError(
            'GONG_FORBIDDEN',
            `${said}: listing users needs the api:users:read scope`,
            { retryable: false },
          );
        }
        throw new GongDirectoryError('GONG_UNEXPECTED_STATUS', said, { retryable: false });
      }
    },
  };
}

function backoff(retry: number): number {
  return randomInt(0, Math.min(8_000, 250 * 2 ** (retry + 1)) + 1);
}
