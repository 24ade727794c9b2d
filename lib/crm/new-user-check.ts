import type { CheckOptions, CheckUsers } from '#lib/check/check-users.ts';
import { assertGongAnswered, ResultsNotStoredError } from '#lib/check/failures.ts';
import type { CheckReport } from '#lib/check/report.ts';
import type { PendingStore } from '#lib/crm/pending-store.ts';

export interface NewUserCheck {
  report: CheckReport;
  /** The users Gong did not know yet, or gave no answer for, now queued for re-checks. */
  pending: string[];
}

/** Checks users a CRM just created; throws (so the sender retries) unless every answer was stored. */
export type CheckNewUsers = (emails: string[], options: CheckOptions) => Promise<NewUserCheck>;

/**
 * Builds the CRM intake: check the new users, and remember the ones Gong does not know yet —
 * a brand-new CRM user often reaches Gong minutes or hours later — for scheduled re-checks.
 */
export function createNewUserCheck(deps: { checkUsers: CheckUsers; pending: PendingStore }): CheckNewUsers {
  return async (emails, options) => {
    // Gong failing for everyone, or a result not stored, throws: the sender's retry is the right re-try.
    const report = assertGongAnswered(await deps.checkUsers(emails, options));
    if (report.results.some((result) => result.stored === false)) {
      throw new ResultsNotStoredError('Could not store the check result; deliver the event again');
    }
    // A partial failure is still acknowledged (Salesforce will not resend the message): the users
    // Gong gave no answer for join the re-checks, or they would be lost.
    const pending = [
      ...report.results.filter((result) => !result.exists).map((result) => result.email),
      ...report.failures.map((failure) => failure.email),
    ];
    if (pending.length > 0) await deps.pending.add(pending, { source: options.source, at: new Date() });
    return { report, pending };
  };
}
