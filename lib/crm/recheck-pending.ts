import type { Logger } from '@aws-lambda-powertools/logger';
import type { CheckUsers } from '#lib/check/check-users.ts';
import type { FailureCode } from '#lib/check/failures.ts';
import { mapLimit } from '#lib/concurrency/map-limit.ts';
import { PENDING_SCHEDULE, type PendingStore, type PendingUser } from '#lib/crm/pending-store.ts';
import { ValidationError } from '#lib/errors/errors.ts';
import { MAX_EMAILS_PER_CALL } from '#lib/gong/status-client.ts';

/** Don't start a batch with less time than one Gong call with its retries may need. */
const MIN_TIME_FOR_BATCH_MS = 15_000;
/** Failures that mean Gong's budget is spent for now: the run stops, and the next scheduled one picks up. */
const STOPS_RUN: Record<FailureCode, boolean> = {
  GONG_RATE_LIMITED: true,
  GONG_BUDGET_SPENT: true,
  GONG_UNAVAILABLE: false,
  GONG_CREDENTIALS: false,
  GONG_AUTH: false,
  GONG_FORBIDDEN: false,
  GONG_BAD_REQUEST: false,
  GONG_UNEXPECTED_STATUS: false,
  GONG_BAD_RESPONSE: false,
  GONG_INCOMPLETE_ANSWER: false,
};

export interface RecheckSummary {
  checked: number;
  /** Now known to Gong (valid or not): no longer pending. */
  resolved: string[];
  /** Still unknown after the whole re-check window: given up. */
  expired: string[];
  /** Still unknown, re-checked again later. */
  rescheduled: number;
  /** Gong gave no answer for these; they stay due for the next run. */
  failed: number;
  /** False when time or Gong's rate limit ran out before every due user was re-checked. */
  done: boolean;
  /** Set when the run stopped because background work had used its share (80%) of the day's Gong budget. */
  budgetSpent?: string;
}

/** Which pending users a run re-checks: those due by `dueBy`, scheduling and expiring them as of `asOf`. */
export interface RecheckWindow {
  asOf: Date;
  dueBy: Date;
}

/** Re-checks the pending users due, in batches of 100; removes those Gong now knows or whose window closed. */
export type RecheckPending = (
  options: RecheckWindow & { requestId: string; deadline: number },
) => Promise<RecheckSummary>;

/** Builds the scheduled re-check of CRM users Gong did not know yet. */
export function createRecheckPending(deps: {
  pending: PendingStore;
  checkUsers: CheckUsers;
  logger: Logger;
  schedule?: typeof PENDING_SCHEDULE;
}): RecheckPending {
  const schedule = deps.schedule ?? PENDING_SCHEDULE;
  return async ({ asOf, dueBy, requestId, deadline }) => {
    const summary: RecheckSummary = {
      checked: 0,
      resolved: [],
      expired: [],
      rescheduled: 0,
      failed: 0,
      done: true,
    };
    let cursor: string | undefined;
    do {
      if (deadline - Date.now() < MIN_TIME_FOR_BATCH_MS) {
        summary.done = false;
        break;
      }
      // One page of due users is one Gong call.
      const page = await deps.pending.listDue(dueBy, {
        limit: MAX_EMAILS_PER_CALL,
        ...(cursor ? { cursor } : {}),
      });
      cursor = page.cursor;
      if (page.items.length === 0) continue;
      const byEmail = new Map(page.items.map((user) => [user.email, user]));
      // The shared call pacer keeps these calls within GONG_MAX_RPS alongside every other door.
      const report = await deps.checkUsers([...byEmail.keys()], {
        source: 'crm-recheck',
        requestId,
        deadline,
        // Re-checks are background work: they leave the last 20% of the day's budget to people.
        priority: 'background',
      });
      summary.checked += report.results.length;
      const expired = (user: PendingUser) => asOf.getTime() >= Date.parse(user.giveUpAt);
      await mapLimit(report.results, 16, async (result) => {
        const user = byEmail.get(result.email);
        if (!user) return;
        if (result.exists) {
          await deps.pending.remove(user.email);
          summary.resolved.push(user.email);
        } else if (expired(user)) {
          await deps.pending.remove(user.email);
          summary.expired.push(user.email);
        } else {
          const next = Math.min(asOf.getTime() + schedule.everyMs, Date.parse(user.giveUpAt));
          await deps.pending.reschedule(user, new Date(next));
          summary.rescheduled++;
        }
      });
      // Unanswered users stay due for the next run, unless their window has closed.
      await mapLimit(report.failures, 16, async (failure) => {
        const user = byEmail.get(failure.email);
        if (user && expired(user)) {
          await deps.pending.remove(user.email);
          summary.expired.push(user.email);
        } else {
          summary.failed++;
        }
      });
      const stop = report.failures.find((f) => STOPS_RUN[f.code]);
      if (stop) {
        // Gong's budget is spent: the next scheduled run picks up where this one stopped.
        summary.done = false;
        if (stop.code === 'GONG_BUDGET_SPENT') {
          summary.budgetSpent = stop.message;
          deps.logger.warn('Re-checks stopped: their share of the daily Gong budget is spent', {
            reason: stop.message,
            retryAfterSeconds: stop.retryAfterSeconds,
          });
        }
        break;
      }
    } while (cursor);
    if (summary.checked > 0 || summary.failed > 0) {
      deps.logger.info('Re-checked pending users', {
        checked: summary.checked,
        resolved: summary.resolved.length,
        expired: summary.expired.length,
        rescheduled: summary.rescheduled,
        failed: summary.failed,
        done: summary.done,
      });
    }
    return summary;
  };
}

/** Far enough ahead to include every pending user: the schedule never runs past 3 days. */
const EVERYONE = new Date('9999-12-31T00:00:00.000Z');

/**
 * The run's window from its event: now, for the schedule's EventBridge event (or `{}`). A run by hand
 * may pass `{"all": true}` to re-check everyone pending without waiting for their turn, or
 * `{"asOf": "<ISO time>"}` to run as if it were that time (due users, hourly steps and the 3-day limit alike).
 */
export function recheckWindowFrom(event: unknown, now = new Date()): RecheckWindow {
  const fields =
    event !== null && typeof event === 'object' ? (event as { asOf?: unknown; all?: unknown }) : {};
  let asOf = now;
  if (fields.asOf !== undefined) {
    const time = typeof fields.asOf === 'string' ? Date.parse(fields.asOf) : Number.NaN;
    if (Number.isNaN(time))
      throw new ValidationError('"asOf" must be an ISO 8601 time', { code: 'AS_OF_INVALID' });
    asOf = new Date(time);
  }
  if (fields.all !== undefined && typeof fields.all !== 'boolean') {
    throw new ValidationError('"all" must be true or false', { code: 'ALL_INVALID' });
  }
  return { asOf, dueBy: fields.all === true ? EVERYONE : asOf };
}
