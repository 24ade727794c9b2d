import type { CheckFailure, CheckReport } from '#lib/check/report.ts';

/** What one failure code means, whether trying again later may work, and what a user can do about it. */
export interface FailureCodeInfo {
  meaning: string;
  retryable: boolean;
  fix: string;
}

/**
 * The closed set of reasons an email gets no answer from Gong (README "Failure codes"; a test
 * holds the README's table to exactly these).
 */
export const FAILURES = {
  GONG_UNAVAILABLE: {
    meaning:
      'Gong did not answer, answered 5xx or timed out, also after retries (or no Gong call slot could be taken)',
    retryable: true,
    fix: 'Try again in a few minutes',
  },
  GONG_RATE_LIMITED: {
    meaning:
      "Gong's rate limit (429), or the wait for a paced call slot, outlasted our retries or the invocation's time",
    retryable: true,
    fix: 'Try again after the Retry-After given',
  },
  GONG_BUDGET_SPENT: {
    meaning: "The deployment's daily Gong call budget is spent (for background work: its 80% share)",
    retryable: true,
    fix: 'Try again after the time given (the budget renews at 00:00 UTC)',
  },
  GONG_CREDENTIALS: {
    meaning: 'The Gong credentials could not be read (secret missing or malformed)',
    retryable: false,
    fix: 'Fix the Gong secret or GONG_ACCESS_KEY / GONG_ACCESS_KEY_SECRET',
  },
  GONG_AUTH: {
    meaning: 'Gong refused the access key or token (401), also after re-reading the secret',
    retryable: false,
    fix: 'Put a valid Gong access key or token in the Gong secret',
  },
  GONG_FORBIDDEN: {
    meaning:
      'Gong answered 403: the endpoint is not enabled for the company (limited release) or the credentials lack its scope',
    retryable: false,
    fix: 'Ask your Gong CSM to enable the integration-status endpoint, or your Gong admin for the scope named',
  },
  GONG_BAD_REQUEST: {
    meaning: 'Gong rejected what we sent (400): a bug on our side',
    retryable: false,
    fix: 'Report it with the request id; retrying will not help',
  },
  GONG_UNEXPECTED_STATUS: {
    meaning: 'Gong answered with a status its documentation does not give',
    retryable: false,
    fix: 'Report it with the request id',
  },
  GONG_BAD_RESPONSE: {
    meaning: "Gong's answer is not in the documented shape",
    retryable: false,
    fix: 'Report it with the request id',
  },
  GONG_INCOMPLETE_ANSWER: {
    meaning: "Gong's answer left this email out",
    retryable: false,
    fix: 'Check the user again; report it if it persists',
  },
} as const satisfies Record<string, FailureCodeInfo>;

/** Why an email got no answer from Gong: one of FAILURES. */
export type FailureCode = keyof typeof FAILURES;

export const FAILURE_CODES = Object.keys(FAILURES) as FailureCode[];

/** For the default of an exhaustive switch: the compiler flags a code left out. */
export function assertNever(value: never): never {
  throw new Error(`Unhandled case: ${String(value)}`);
}

/** One Gong request failed with a failure code (the users directory throws it; status checks report it per email). */
export class GongFailureError extends Error {
  override name = 'GongFailureError';
  readonly code: FailureCode;
  readonly retryAfterSeconds?: number;
  constructor(code: FailureCode, message: string, options?: { retryAfterSeconds?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }

  get retryable(): boolean {
    return FAILURES[this.code].retryable;
  }
}

/** Gong answered for none of the emails of a check; `code` decides the answer, the report rides along. */
export class GongUnansweredError extends Error {
  override name = 'GongUnansweredError';
  readonly code: FailureCode;
  readonly report: CheckReport;
  readonly retryAfterSeconds?: number;
  constructor(
    code: FailureCode,
    message: string,
    options: { report: CheckReport; retryAfterSeconds?: number; cause?: unknown },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.report = options.report;
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Some results of a check could not be stored: the sender should deliver the event again. */
export class ResultsNotStoredError extends Error {
  override name = 'ResultsNotStoredError';
}

/** The code that decides how a check Gong failed for is answered: a spent budget, then a rate limit, then the first failure's. */
export function decidingCode(failures: readonly CheckFailure[]): FailureCode | undefined {
  const codes = new Set(failures.map((failure) => failure.code));
  if (codes.has('GONG_BUDGET_SPENT')) return 'GONG_BUDGET_SPENT';
  if (codes.has('GONG_RATE_LIMITED')) return 'GONG_RATE_LIMITED';
  return failures[0]?.code;
}

/** Returns the report unless Gong answered for none of its emails; then throws GongUnansweredError. */
export function assertGongAnswered(report: CheckReport): CheckReport {
  if (report.results.length > 0 || report.failures.length === 0) return report;
  const code = decidingCode(report.failures) ?? 'GONG_UNAVAILABLE';
  switch (code) {
    case 'GONG_RATE_LIMITED':
    case 'GONG_BUDGET_SPENT': {
      const waits = report.failures.filter((f) => f.code === code).map((f) => f.retryAfterSeconds ?? 1);
      const retryAfterSeconds = Math.max(1, ...waits);
      const what =
        code === 'GONG_RATE_LIMITED'
          ? "Gong's rate limit outlasted our retries"
          : "The deployment's daily Gong budget is spent";
      throw new GongUnansweredError(code, `${what}; retry after ${retryAfterSeconds} s`, {
        report,
        retryAfterSeconds,
      });
    }
    case 'GONG_UNAVAILABLE':
    case 'GONG_CREDENTIALS':
    case 'GONG_AUTH':
    case 'GONG_FORBIDDEN':
    case 'GONG_BAD_REQUEST':
    case 'GONG_UNEXPECTED_STATUS':
    case 'GONG_BAD_RESPONSE':
    case 'GONG_INCOMPLETE_ANSWER': {
      const codes = [...new Set(report.failures.map((f) => f.code))].join(', ');
      throw new GongUnansweredError(
        code,
        `Gong failed for every email (${codes}): ${report.failures[0]?.message}`,
        { report },
      );
    }
    default:
      return assertNever(code);
  }
}
