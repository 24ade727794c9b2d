import type { Logger } from '@aws-lambda-powertools/logger';
import { parseEmailList } from '#lib/check/emails.ts';
import { type CheckReport, statusOf, summarise, type UserResult } from '#lib/check/report.ts';
import { chunksOf } from '#lib/concurrency/chunks.ts';
import { createGate } from '#lib/concurrency/gate.ts';
import { describeError } from '#lib/errors/errors.ts';
import type { CallPriority } from '#lib/gong/pacer.ts';
import { type GongClient, type GongUserStatus, MAX_EMAILS_PER_CALL } from '#lib/gong/status-client.ts';
import type { HistoryStore, KnownLatest } from '#lib/history/history-store.ts';

export interface CheckOptions {
  /** Which door asked (api, slack, crm, sweep, a calling service's name…); stored with each result. */
  source: string;
  /** Our id for this check: the Lambda request id where there is one. */
  requestId: string;
  /** Epoch ms by which the check must be done (the invocation's deadline less a margin). */
  deadline: number;
  /** Cap on distinct emails (the HTTP API allows 1000). */
  maxEmails?: number;
  onBatchDone?: (done: number, total: number) => void;
  /** 'background' (sweep, re-checks) stops at 80% of the day's Gong budget; a person (the default) may use it all. */
  priority?: CallPriority;
}

/**
 * Batches read (or being read) whose calls have no slot yet: a few slots' worth ahead of the calls,
 * so each read is in by the time its slot comes, without all of a bulk check's reads at once.
 */
const READ_AHEAD = 4;

/** The one use case: check users in Gong, compare with what we knew, keep the history. */
export type CheckUsers = (emails: unknown, options: CheckOptions) => Promise<CheckReport>;

/** Builds the check use case from a Gong client and a history store. */
export function createCheckUsers(deps: {
  gong: GongClient;
  store: HistoryStore;
  logger: Logger;
}): CheckUsers {
  const { gong, store, logger } = deps;

  async function storeBatch(
    statuses: GongUserStatus[],
    read: { previous: Map<string, KnownLatest>; at: number } | undefined,
    options: CheckOptions,
  ): Promise<UserResult[]> {
    const previous = read?.previous;
    const results = statuses.map(({ answeredAt, ...status }) => {
      const before = previous?.get(status.email);
      const result: UserResult = {
        ...status,
        status: statusOf(status.exists, status.valid),
        checkedAt: new Date(answeredAt).toISOString(),
      };
      // The read runs beside the call: what it found is "before" only if it is older than this answer.
      if (before && before.checkedAt < result.checkedAt) {
        result.previousValid = before.valid;
        result.changed = before.status !== result.status;
      }
      return result;
    });
    // Without what we knew, storing would reset `since` and miss changes: answer, but store nothing.
    const unstored = read
      ? await store.record(results, {
          source: options.source,
          requestId: options.requestId,
          previous: read.previous,
          readBeforeAnswers: statuses.every((status) => read.at <= status.answeredAt),
        })
      : new Set(results.map((result) => result.email));
    if (unstored.size > 0) {
      logger.error('Could not store some results', { count: unstored.size, requestId: options.requestId });
      for (const result of results) if (unstored.has(result.email)) result.stored = false;
    }
    return results;
  }

  return async (input, options) => {
    const emails = parseEmailList(input, options.maxEmails === undefined ? {} : { max: options.maxEmails });
    const startedAt = new Date().toISOString();
    const batches = chunksOf(emails, MAX_EMAILS_PER_CALL);
    let done = 0;
    const priority = options.priority ?? 'person';
    if (batches.length > 0) gong.prepare?.(priority, batches.length);
    const readingAhead = createGate(READ_AHEAD);
    const outcomes = await Promise.all(
      batches.map(async (batch) => {
        // Each batch reads what we knew of its users while its Gong call waits for its slot (README ›
        // Storage), and is stored once both are in: reads, calls and writes of a bulk check flow
        // side by side at Gong's pace, and no read stands between a slot and its call. Only a few
        // batches at a time are read ahead of their slots: all of a bulk check's reads at once
        // would hold the CPU, and with it the first calls.
        const [read, outcome] = await readingAhead((callSent) =>
          Promise.all([
            store.getLatestMany(batch).then(
              (previous) => ({ previous, at: Date.now() }),
              (error: unknown) => {
                logger.error('Could not read the stored results; answering without storing', {
                  error: describeError(error),
                  count: batch.length,
                });
                return undefined;
              },
            ),
            gong.checkBatch(batch, { deadline: options.deadline, priority, onSent: callSent }),
          ]),
        );
        const results = await storeBatch(outcome.statuses, read, options);
        options.onBatchDone?.(++done, batches.length);
        return { results, failures: outcome.failures };
      }),
    );
    const results = outcomes.flatMap((o) => o.results);
    const failures = outcomes.flatMap((o) => o.failures);

    // Report in the order asked, whatever order Gong and the batches finished in.
    const order = new Map(emails.map((email, index) => [email, index]));
    const byOrder = (a: { email: string }, b: { email: string }) =>
      (order.get(a.email) ?? 0) - (order.get(b.email) ?? 0);
    results.sort(byOrder);
    failures.sort(byOrder);
    if (failures.length > 0) {
      logger.warn('Some emails could not be checked', {
        failed: failures.length,
        codes: [...new Set(failures.map((f) => f.code))],
      });
    }
    return {
      requestId: options.requestId,
      checkedAt: startedAt,
      results,
      failures,
      summary: summarise(results, failures),
    };
  };
}
