import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import type { UserStatus } from '#lib/check/report.ts';
import { HttpError } from '#lib/errors/errors.ts';
import type { HistoryStore } from '#lib/history/history-store.ts';
import { intParam } from '#lib/http/responses.ts';

type Params = Record<string, string | undefined> | undefined;
const STATUSES: readonly UserStatus[] = ['OK', 'INVALID', 'NOT_IN_GONG'];

/** The email from a path parameter, decoded and normalised; a 400 naming it when it is not an email. */
export function emailFromPath(raw: string | undefined): string {
  let decoded = raw ?? '';
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // Not percent-encoded after all: take it as it came.
  }
  const email = normaliseEmail(decoded);
  if (!isEmail(email))
    throw new HttpError(400, 'BAD_EMAIL', `"${decoded.slice(0, 80)}" is not an email address`);
  return email;
}

/** Read side of the HTTP API: latest result, history and status listings, straight from the store. */
export function createUsersApi(store: HistoryStore) {
  return {
    async latest(email: string) {
      const latest = await store.getLatest(email);
      if (!latest) throw new HttpError(404, 'USER_NOT_FOUND', `${email} has never been checked`);
      return latest;
    },
    async history(email: string, query: Params) {
      const limit = intParam(query, 'limit', { min: 1, max: 100, fallback: 20 });
      const cursor = query?.cursor;
      const page = await store.listHistory(email, cursor ? { limit, cursor } : { limit });
      return { email, ...page };
    },
    async byStatus(query: Params) {
      const status = query?.status as UserStatus | undefined;
      if (!status || !STATUSES.includes(status)) {
        throw new HttpError(400, 'BAD_PARAMETER', `"status" must be one of ${STATUSES.join(', ')}`);
      }
      const limit = intParam(query, 'limit', { min: 1, max: 100, fallback: 50 });
      const cursor = query?.cursor;
      return store.listByStatus(status, cursor ? { limit, cursor } : { limit });
    },
  };
}
