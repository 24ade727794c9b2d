import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { UserStatus } from '#lib/check/report.ts';
import { HttpError } from '#lib/errors/errors.ts';
import type { HistoryStore, LatestResult } from '#lib/history/history-store.ts';
import { intParam } from '#lib/http/responses.ts';
import { type BrokenUser, groupByCause, type Problem } from '#lib/problems/group-by-cause.ts';
import type { DailyStats } from '#lib/sweep/sweep-store.ts';

type Params = Record<string, string | undefined> | undefined;
/** All the team reads need of the history store. */
type StatusListing = Pick<HistoryStore, 'listByStatus'>;

const gzipAsync = promisify(gzip);
const STATUSES: readonly UserStatus[] = ['OK', 'INVALID', 'NOT_IN_GONG'];
/** DynamoDB answers at most 1 MB a page whatever the limit; a large limit only saves round trips. */
const PAGE_SIZE = 1000;
/** The CSV's columns, in order (README "The team-health page"). */
export const CSV_COLUMNS = ['email', 'status', 'since', 'checkedAt', 'userFacingError', 'fixUrl'] as const;
/**
 * API Gateway refuses a Lambda answer over 6 MB, counted on the JSON the function returns, where a
 * binary body is base64 (4/3 of its bytes). Stop short of that with room for the headers.
 */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 64 * 1024;

/** One day of the sweep's snapshot, as `GET /v1/stats/daily` answers it. */
export type DailyCounts = DailyStats;

/** The CSV answer: the body as API Gateway takes it, and what the headers need. */
export interface CsvAnswer {
  body: string;
  isBase64Encoded: boolean;
  headers: Record<string, string>;
  rows: number;
}

/**
 * One field quoted per RFC 4180: in double quotes, quotes doubled, when it holds a quote, comma, CR
 * or LF. A field a spreadsheet would read as a formula (a leading = + - @ tab or CR; an email is the
 * caller's to choose) starts with an apostrophe, so opening the file runs nothing (README › The team-health page).
 */
export function csvField(value: string | undefined): string {
  const raw = value ?? '';
  const text = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record of a listed user, CRLF-terminated (RFC 4180). */
export function csvRow(user: LatestResult): string {
  return `${CSV_COLUMNS.map((column) => csvField(user[column])).join(',')}\r\n`;
}

/** The status query parameter, or a 400 naming it. */
export function statusParam(query: Params): UserStatus {
  const status = query?.status as UserStatus | undefined;
  if (!status || !STATUSES.includes(status)) {
    throw new HttpError(400, 'BAD_PARAMETER', `"status" must be one of ${STATUSES.join(', ')}`);
  }
  return status;
}

/** Every latest result with this status, page by page, in the status index's order (longest first). */
export async function* everyUser(store: StatusListing, status: UserStatus): AsyncGenerator<LatestResult[]> {
  let cursor: string | undefined;
  do {
    const page = await store.listByStatus(
      status,
      cursor ? { limit: PAGE_SIZE, cursor } : { limit: PAGE_SIZE },
    );
    yield page.items;
    cursor = page.nextCursor;
  } while (cursor);
}

/**
 * The team-wide reads of the HTTP API (README "The team-health page"): problems grouped by cause,
 * the daily counts the sweep stored, and every user of a status as CSV. Admin-only; the door checks.
 */
export function createTeamApi(options: {
  store: StatusListing;
  /** The sweep's daily snapshots of the last `days` days, oldest first. */
  listDailyStats: (days: number) => Promise<DailyCounts[]>;
  now?: () => Date;
}) {
  const { store } = options;
  const now = options.now ?? (() => new Date());
  return {
    /** Broken users (INVALID and NOT_IN_GONG), grouped by cause, biggest first. */
    async problems(): Promise<{ problems: Problem[] }> {
      const broken: BrokenUser[] = [];
      for (const status of ['INVALID', 'NOT_IN_GONG'] as const) {
        for await (const items of everyUser(store, status)) {
          // Only what the grouping reads: a large team's latest items carry much more.
          for (const { email, userFacingError, fixUrl, since } of items) {
            broken.push({
              email,
              status,
              since,
              ...(userFacingError === undefined ? {} : { userFacingError }),
              ...(fixUrl === undefined ? {} : { fixUrl }),
            });
          }
        }
      }
      return { problems: groupByCause(broken) };
    },

    /** `?days=1..400` (default 90) of the sweep's daily counts, oldest first. */
    async dailyStats(query: Params): Promise<{ days: DailyCounts[] }> {
      const days = intParam(query, 'days', { min: 1, max: 400, fallback: 90 });
      return { days: await options.listDailyStats(days) };
    },

    /**
     * Every user of `?status=` as CSV, no paging. The text is compressed page by page as it is read,
     * so only the compressed body stays in memory; gzip (which every browser, `curl --compressed` and
     * `fetch` undo by themselves) keeps 100,000 users well under API Gateway's 6 MB. A caller that
     * does not accept gzip gets plain text while that fits, else a 406 that says what to send.
     */
    async csv(query: Params, acceptEncoding: string | undefined): Promise<CsvAnswer> {
      const status = statusParam(query);
      const compress = /\bgzip\b/i.test(acceptEncoding ?? '');
      const chunks: Buffer[] = [Buffer.from(`${CSV_COLUMNS.join(',')}\r\n`)];
      let rows = 0;
      let bytes = 0;
      const compressed: Buffer[] = [];
      for await (const items of everyUser(store, status)) {
        let text = '';
        for (const user of items) text += csvRow(user);
        rows += items.length;
        chunks.push(Buffer.from(text));
        if (compress) {
          // Members of one gzip stream concatenated are one valid gzip file (RFC 1952 §2.2).
          compressed.push(await gzipAsync(Buffer.concat(chunks.splice(0))));
          bytes = compressed.reduce((sum, part) => sum + part.byteLength, 0);
        } else {
          bytes += Buffer.byteLength(text);
        }
        if (wireBytes(bytes, compress) > MAX_RESPONSE_BYTES) throw tooLarge(status, rows, compress);
      }
      const filename = `gong-status-${status}-${now().toISOString().slice(0, 10)}.csv`;
      const headers: Record<string, string> = {
        'content-type': 'text/csv; charset=utf-8',
        'content-disposition': `attachment; filename="${filename}"`,
        'cache-control': 'no-store',
        vary: 'accept-encoding',
      };
      if (compress) {
        if (chunks.length > 0) compressed.push(await gzipAsync(Buffer.concat(chunks)));
        return {
          body: Buffer.concat(compressed).toString('base64'),
          isBase64Encoded: true,
          headers: { ...headers, 'content-encoding': 'gzip' },
          rows,
        };
      }
      return { body: Buffer.concat(chunks).toString('utf8'), isBase64Encoded: false, headers, rows };
    },
  };
}

function wireBytes(bytes: number, base64: boolean): number {
  return base64 ? Math.ceil(bytes / 3) * 4 : bytes;
}

function tooLarge(status: UserStatus, rows: number, compressed: boolean): HttpError {
  return compressed
    ? new HttpError(
        413,
        'RESPONSE_TOO_LARGE',
        `The CSV of ${status} users passes API Gateway's 6 MB answer limit, compressed, after ${rows} rows; read them page by page without format=csv`,
      )
    : new HttpError(
        406,
        'GZIP_REQUIRED',
        `The CSV of ${status} users passes API Gateway's 6 MB answer limit after ${rows} rows; send Accept-Encoding: gzip (curl --compressed)`,
      );
}
