import type { FailureCode } from '#lib/check/failures.ts';

/** Where a user stands in Gong: recordable, known but broken, or unknown to Gong. */
export type UserStatus = 'OK' | 'INVALID' | 'NOT_IN_GONG';

/** What Gong said about one user, as we keep it. */
export interface UserResult {
  email: string;
  exists: boolean;
  valid: boolean;
  status: UserStatus;
  userFacingError?: string;
  fixUrl?: string;
  helpUrl?: string;
  checkedAt: string;
  gongRequestId: string;
  previousValid?: boolean;
  changed?: boolean;
  /** Present (false) only when the result could not be stored. */
  stored?: false;
}

/** An email we could not get an answer for, and why. */
export interface CheckFailure {
  email: string;
  code: FailureCode;
  message: string;
  retryAfterSeconds?: number;
}

/** The check report (README "How it works"): every requested email is in exactly one of results or failures. */
export interface CheckReport {
  requestId: string;
  checkedAt: string;
  results: UserResult[];
  failures: CheckFailure[];
  summary: { total: number; valid: number; invalid: number; notFound: number; failed: number };
}

/** Derives the status from Gong's two booleans. */
export function statusOf(exists: boolean, valid: boolean): UserStatus {
  if (!exists) return 'NOT_IN_GONG';
  return valid ? 'OK' : 'INVALID';
}

/** Counts results and failures into the report summary. */
export function summarise(results: UserResult[], failures: CheckFailure[]): CheckReport['summary'] {
  const count = (status: UserStatus) => results.filter((r) => r.status === status).length;
  return {
    total: results.length + failures.length,
    valid: count('OK'),
    invalid: count('INVALID'),
    notFound: count('NOT_IN_GONG'),
    failed: failures.length,
  };
}
