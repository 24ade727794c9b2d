import * as z from 'zod/mini';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import { GongFailureError } from '#lib/check/failures.ts';
import { detailOf, explainForbidden, type GongRequester } from '#lib/gong/requester.ts';

export const USERS_PATH = '/v2/users';
/** The scope Gong's user listing needs. */
export const USERS_SCOPE = 'api:users:read';

/** One page of Gong's company users: the active ones' emails, and the cursor of the next page. */
export interface DirectoryPage {
  emails: string[];
  cursor?: string;
}

export interface GongDirectory {
  /** One page of `GET /v2/users` (Gong pages by 100); needs the `api:users:read` scope. Throws GongFailureError when Gong would not list them. */
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
        // Discovery is background work: it stops at 80% of the day's budget, leaving the rest to people.
        priority: 'background',
      });
      if (response.kind === 'failed') {
        throw new GongFailureError(
          response.code,
          response.message,
          response.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: response.retryAfterSeconds },
        );
      }
      const { status, body, gongRequestId } = response;
      const said = `Gong answered ${status} to GET ${USERS_PATH} (requestId ${gongRequestId})`;
      if (status === 200) {
        const parsed = pageSchema.safeParse(body);
        if (!parsed.success) {
          throw new GongFailureError('GONG_BAD_RESPONSE', `${said} in an undocumented shape`);
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
        throw new GongFailureError('GONG_AUTH', `${said}: the credentials were refused`);
      }
      if (status === 403) {
        throw new GongFailureError(
          'GONG_FORBIDDEN',
          `${said}${detailOf(body)}: ${explainForbidden(body, { path: USERS_PATH, scope: USERS_SCOPE })}`,
        );
      }
      throw new GongFailureError('GONG_UNEXPECTED_STATUS', said);
    },
  };
}
