import * as z from 'zod/mini';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import type { GongRequester } from '#lib/gong/requester.ts';

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

/** Lists Gong's users through the same requester, and so the same pacer, as the status checks: one budget for both. */
export function createGongDirectory(options: { request: GongRequester }): GongDirectory {
  return {
    async listActiveUsers({ cursor, deadline }) {
      const response = await options.request({
        method: 'GET',
        path: USERS_PATH,
        ...(cursor === undefined ? {} : { query: { cursor } }),
        deadline,
      });
      if (response.kind === 'failed') {
        // Missing credentials stay missing; a rate limit or an outage may pass.
        throw new GongDirectoryError(response.code, response.message, {
          retryable: response.code !== 'GONG_CREDENTIALS',
        });
      }
      const { status, body, gongRequestId } = response;
      const said = `Gong answered ${status} to GET ${USERS_PATH} (requestId ${gongRequestId})`;
      if (status === 200) {
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
      if (status === 404) return { emails: [] };
      if (status === 401) {
        throw new GongDirectoryError('GONG_AUTH', `${said}: the credentials were refused`, {
          retryable: false,
        });
      }
      if (status === 403) {
        throw new GongDirectoryError(
          'GONG_FORBIDDEN',
          `${said}: listing users needs the api:users:read scope`,
          {
            retryable: false,
          },
        );
      }
      throw new GongDirectoryError('GONG_UNEXPECTED_STATUS', said, { retryable: false });
    },
  };
}
