import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assertGongAnswered,
  FAILURE_CODES,
  FAILURES,
  GongUnansweredError,
  ResultsNotStoredError,
} from '#lib/check/failures.ts';
import type { CheckFailure, CheckReport } from '#lib/check/report.ts';
import { HttpError } from '#lib/errors/errors.ts';
import { publicError } from '#lib/http/public-error.ts';

/** The rows of the README's "Failure codes" table: code → retryable column. */
function readmeTable(): Map<string, string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^### Failure codes$/m)[1]?.split(/^#{2,3} /m)[0] ?? '';
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = /^`([A-Z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code) rows.set(code, cells[3] ?? '');
  }
  return rows;
}

function report(failures: CheckFailure[]): CheckReport {
  return {
    requestId: 'r1',
    checkedAt: '2026-11-28T12:00:00.000Z',
    results: [],
    failures,
    summary: { total: failures.length, valid: 0, invalid: 0, notFound: 0, failed: failures.length },
  };
}

describe('failure codes', () => {
  it('returns exactly the codes of the union in the README table, with their retryability', () => {
    const table = readmeTable();
    expect([...table.keys()].sort()).toEqual([...FAILURE_CODES].sort());
    for (const code of FAILURE_CODES) {
      expect(table.get(code)).toBe(FAILURES[code].retryable ? 'yes' : 'no');
    }
  });
});

describe('assertGongAnswered', () => {
  it('returns the report when Gong answered for some email', () => {
    const partial: CheckReport = {
      ...report([{ email: 'b@x.com', code: 'GONG_INCOMPLETE_ANSWER', message: 'left out' }]),
      results: [
        {
          email: 'a@x.com',
          exists: true,
          valid: true,
          status: 'OK',
          checkedAt: '2026-11-28T12:00:00.000Z',
          gongRequestId: 'g1',
        },
      ],
    };
    expect(assertGongAnswered(partial)).toBe(partial);
  });

  it('throws GongUnansweredError with the longest Retry-After when Gong rate limited every email', () => {
    const limited = report([
      { email: 'a@x.com', code: 'GONG_UNAVAILABLE', message: 'down' },
      { email: 'b@x.com', code: 'GONG_RATE_LIMITED', message: 'limited', retryAfterSeconds: 30 },
      { email: 'c@x.com', code: 'GONG_RATE_LIMITED', message: 'limited', retryAfterSeconds: 90 },
    ]);
    const error = catchError(() => assertGongAnswered(limited));
    expect(error).toBeInstanceOf(GongUnansweredError);
    expect(error).toMatchObject({ code: 'GONG_RATE_LIMITED', retryAfterSeconds: 90, report: limited });
  });
});

describe('publicError', () => {
  it('returns 503 with Retry-After and the report when Gong rate limited every email', () => {
    const limited = report([
      { email: 'a@x.com', code: 'GONG_RATE_LIMITED', message: 'x', retryAfterSeconds: 120 },
    ]);
    const answer = publicError(catchError(() => assertGongAnswered(limited)));
    expect(answer).toMatchObject({
      statusCode: 503,
      code: 'GONG_RATE_LIMITED',
      headers: { 'retry-after': '120' },
      extra: { report: limited },
      exposed: true,
    });
  });

  it('returns 503 GONG_BUDGET_SPENT with Retry-After when the daily budget is spent', () => {
    const spent = report([
      { email: 'a@x.com', code: 'GONG_BUDGET_SPENT', message: 'x', retryAfterSeconds: 3600 },
    ]);
    const answer = publicError(catchError(() => assertGongAnswered(spent)));
    expect(answer).toMatchObject({
      statusCode: 503,
      code: 'GONG_BUDGET_SPENT',
      headers: { 'retry-after': '3600' },
    });
  });

  it('returns 502 GONG_FAILED naming the codes when Gong failed otherwise for every email', () => {
    const failed = report([{ email: 'a@x.com', code: 'GONG_AUTH', message: 'Gong answered 401' }]);
    const answer = publicError(catchError(() => assertGongAnswered(failed)));
    expect(answer).toMatchObject({ statusCode: 502, code: 'GONG_FAILED', headers: {} });
    expect(answer.message).toBe('Gong failed for every email (GONG_AUTH): Gong answered 401');
  });

  it('returns 503 STORE_FAILED with Retry-After 30 when results were not stored', () => {
    const answer = publicError(
      new ResultsNotStoredError('Could not store the check result; deliver the event again'),
    );
    expect(answer).toMatchObject({ statusCode: 503, code: 'STORE_FAILED', headers: { 'retry-after': '30' } });
  });

  it('returns a 4xx error its own code and message', () => {
    expect(publicError(new HttpError(413, 'BODY_TOO_LARGE', 'too big'))).toMatchObject({
      statusCode: 413,
      code: 'BODY_TOO_LARGE',
      message: 'too big',
      exposed: true,
    });
  });

  it('returns a bare 500 that names no internals for an unexposed 5xx or any other error', () => {
    for (const error of [
      new HttpError(500, 'DB_DOWN', 'table gong-status at 10.0.0.1'),
      new Error('secret x'),
      'boom',
    ]) {
      expect(publicError(error)).toEqual({
        statusCode: 500,
        code: 'INTERNAL',
        message: 'Internal error; quote the requestId',
        headers: {},
        extra: {},
        exposed: false,
      });
    }
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error: unknown) {
    return error;
  }
  throw new Error('expected a throw');
}
