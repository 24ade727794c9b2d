import type { DailyCounts, Problem, Status, StoredResult, UserHistory, UserPage } from './types.ts';

/** The API answered with an error status; `code` is its `error.code` when it sent one. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The data routes the page reads, each with the caller's bearer token. */
export interface Api {
  problems(): Promise<Problem[]>;
  dailyStats(days: number): Promise<DailyCounts[]>;
  users(status: Status, cursor?: string): Promise<UserPage>;
  usersCsv(status: Status): Promise<Blob>;
  /** The latest stored result, or undefined when the user was never checked (404). */
  latest(email: string): Promise<StoredResult | undefined>;
  history(email: string, limit: number): Promise<UserHistory>;
}

/** Builds the API client; `token` is asked before every call, so a renewed login is used at once. */
export function createApi(options: {
  base: string;
  token: () => string | undefined;
  fetch?: typeof fetch;
}): Api {
  const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  const base = options.base.replace(/\/+$/, '');

  async function call(path: string, accept: string): Promise<Response> {
    const token = options.token();
    if (token === undefined) throw new ApiError(401, 'UNAUTHORIZED', 'Not logged in');
    const response = await fetchFn(`${base}${path}`, {
      headers: { authorization: `Bearer ${token}`, accept },
    });
    if (response.ok) return response;
    let code: string | undefined;
    let message = `The API answered ${response.status} to GET ${path.split('?')[0]}`;
    try {
      const body = (await response.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code;
      if (body.error?.message) message = body.error.message;
    } catch {
      // Not JSON (a gateway's own error page): the status says enough.
    }
    throw new ApiError(response.status, code, message);
  }

  async function json<T>(path: string): Promise<T> {
    return (await (await call(path, 'application/json')).json()) as T;
  }

  const user = (email: string) => `/v1/users/${encodeURIComponent(email)}`;

  return {
    async problems() {
      return (await json<{ problems: Problem[] }>('/v1/problems')).problems;
    },
    async dailyStats(days) {
      return (await json<{ days: DailyCounts[] }>(`/v1/stats/daily?days=${days}`)).days;
    },
    users(status, cursor) {
      const query = new URLSearchParams({ status, limit: '100' });
      if (cursor !== undefined) query.set('cursor', cursor);
      return json<UserPage>(`/v1/users?${query}`);
    },
    async usersCsv(status) {
      const query = new URLSearchParams({ status, format: 'csv' });
      return (await call(`/v1/users?${query}`, 'text/csv')).blob();
    },
    async latest(email) {
      try {
        return await json<StoredResult>(user(email));
      } catch (error: unknown) {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      }
    },
    history(email, limit) {
      return json<UserHistory>(`${user(email)}/history?limit=${limit}`);
    },
  };
}
