import type { Logger } from '@aws-lambda-powertools/logger';
import type { CheckUsers } from '#lib/check/check-users.ts';
import { type FailureCode, GongFailureError } from '#lib/check/failures.ts';
import type { UserStatus } from '#lib/check/report.ts';
import { MAX_EMAILS_PER_CALL } from '#lib/gong/status-client.ts';
import type { GongDirectory } from '#lib/gong/users-client.ts';
import { type HistoryStore, SWEEP_SOURCE } from '#lib/history/history-store.ts';
import { moveOn, moveTo } from '#lib/sweep/run-progress.ts';
import type { SweepRun } from '#lib/sweep/sweep-store.ts';

/** The sweep had to stop: Gong refused its credentials or the endpoint. */
export class SweepAbortedError extends Error {
  override name = 'SweepAbortedError';
}

type OnFailure = 'abort' | 'retry' | 'skip' | 'stop';

// Stored users are read status by status from the status index (gsi1): a Query each, never a Scan.
const PARTITIONS: readonly UserStatus[] = ['OK', 'INVALID', 'NOT_IN_GONG'];
/**
 * What a failed user does to the sweep: stop it with an error (nobody will be answered), retry from
 * the same position, leave the user, or stop cleanly (the day's Gong budget is spent: the digest of
 * what was seen is posted and the next sweep starts afresh once it renews).
 */
const ON_FAILURE: Record<FailureCode, OnFailure> = {
  GONG_UNAVAILABLE: 'retry',
  GONG_RATE_LIMITED: 'retry',
  GONG_BUDGET_SPENT: 'stop',
  GONG_CREDENTIALS: 'abort',
  GONG_AUTH: 'abort',
  GONG_FORBIDDEN: 'abort',
  GONG_BAD_REQUEST: 'skip',
  GONG_UNEXPECTED_STATUS: 'skip',
  GONG_BAD_RESPONSE: 'skip',
  GONG_INCOMPLETE_ANSWER: 'skip',
};
/** The same for listing Gong's users: only refused credentials stop the sweep (a 403 there is the users scope alone). */
const ON_DISCOVERY_FAILURE: Record<FailureCode, OnFailure> = {
  ...ON_FAILURE,
  GONG_CREDENTIALS: 'skip',
  GONG_FORBIDDEN: 'skip',
};
/** Chunks in a row that may end with retryable failures at one position before those users are left for the next sweep. */
const MAX_RETRIES = 3;

export interface CheckingDeps {
  store: HistoryStore;
  checkUsers: CheckUsers;
  logger: Logger;
  directory?: GongDirectory;
}

/** The sweep's checking phases: stored users through the status index, then (optionally) Gong's own list. */
export function createChecking(deps: CheckingDeps) {
  const { store, logger } = deps;

  /** Stops the run where it is (kept in `stopped`) and goes on to its digest. */
  function stop(run: SweepRun, { code, message }: { code: FailureCode; message: string }): void {
    run.stopped = {
      code,
      message,
      phase: run.phase,
      step: run.step,
      ...(run.cursor === undefined ? {} : { cursor: run.cursor }),
    };
    logger.warn(`Sweep stops early, the rest waits for the next sweep: ${message}`, {
      sweepId: run.id,
      code,
    });
    moveOn(run, 'digest');
  }

  /** Runs one chunk's checks; 'next' when the position may move past these users. */
  async function checkChunk(
    run: SweepRun,
    emails: string[],
    requestId: string,
    deadline: number,
  ): Promise<'next' | 'again' | 'stopped'> {
    if (emails.length === 0) return 'next';
    // One check for the whole chunk: its batches are paced at the ceiling, and each is stored as
    // soon as Gong answers it.
    const { results, failures } = await deps.checkUsers(emails, {
      source: SWEEP_SOURCE,
      requestId,
      deadline,
      priority: 'background',
    });
    run.checked += results.filter((result) => result.stored !== false).length;
    const fatal = failures.find((failure) => ON_FAILURE[failure.code] === 'abort');
    if (fatal) throw new SweepAbortedError(`Sweep stopped: ${fatal.message} (${fatal.code})`);
    if (failures.length > 0) {
      logger.warn('Sweep could not check some users', {
        sweepId: run.id,
        failed: failures.length,
        codes: [...new Set(failures.map((failure) => failure.code))],
      });
    }
    const stopping = failures.find((failure) => ON_FAILURE[failure.code] === 'stop');
    if (stopping) {
      stop(run, stopping);
      return 'stopped';
    }
    // Users that failed for a passing reason are tried again from the same position; the ones
    // checked meanwhile are skipped then, as their latest result is newer than the sweep's start.
    const again =
      failures.filter((failure) => ON_FAILURE[failure.code] === 'retry').length +
      results.filter((result) => result.stored === false).length;
    if (again === 0) return 'next';
    run.retries += 1;
    if (run.retries <= MAX_RETRIES) return 'again';
    // Gong answering nobody, chunk after chunk, is an outage: stop rather than crawl through everyone.
    if (results.length === 0) {
      throw new SweepAbortedError(
        `Sweep stopped: Gong answered none of ${emails.length} users ${run.retries} times in a row`,
      );
    }
    logger.error('Sweep leaves users unchecked after retries', { sweepId: run.id, count: again });
    return 'next';
  }

  async function storedChunk(run: SweepRun, calls: number, requestId: string, deadline: number) {
    const target = calls * MAX_EMAILS_PER_CALL;
    const emails = new Set<string>();
    let step = run.step;
    let cursor = run.cursor;
    while (emails.size < target && step < PARTITIONS.length) {
      const page = await store.listByStatus(PARTITIONS[step] as UserStatus, {
        limit: Math.min(1_000, target - emails.size),
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const item of page.items) if (item.checkedAt < run.startedAt) emails.add(item.email);
      if (page.nextCursor === undefined) {
        step += 1;
        cursor = undefined;
      } else {
        cursor = page.nextCursor;
      }
    }
    if ((await checkChunk(run, [...emails], requestId, deadline)) === 'next') {
      if (step >= PARTITIONS.length) moveOn(run, deps.directory ? 'discover' : 'digest');
      else moveTo(run, step, cursor);
    }
    return emails.size;
  }

  async function discoverChunk(run: SweepRun, calls: number, requestId: string, deadline: number) {
    const directory = deps.directory as GongDirectory;
    // Each page of Gong's user list is a Gong call too: half the chunk's calls list, half check.
    const pages = Math.max(1, Math.floor(calls / 2));
    const found: string[] = [];
    let cursor = run.cursor;
    let exhausted = false;
    try {
      for (let page = 0; page < pages; page++) {
        const listed = await directory.listActiveUsers({
          deadline,
          ...(cursor === undefined ? {} : { cursor }),
        });
        found.push(...listed.emails);
        if (listed.cursor === undefined) {
          exhausted = true;
          break;
        }
        cursor = listed.cursor;
      }
    } catch (error: unknown) {
      if (!(error instanceof GongFailureError)) throw error;
      const action = ON_DISCOVERY_FAILURE[error.code];
      if (action === 'abort') throw new SweepAbortedError(`Sweep stopped: ${error.message}`);
      if (action === 'stop') {
        stop(run, error);
        return 0;
      }
      if (action === 'skip' || run.retries >= MAX_RETRIES) {
        logger.warn('Sweep skips the rest of Gong user discovery', { sweepId: run.id, code: error.code });
        moveOn(run, 'digest');
        return 0;
      }
      if (found.length === 0) {
        run.retries += 1;
        return 0;
      }
    }
    const unique = [...new Set(found)];
    // Last checked, whether or not that check rewrote the latest item: users the stored phase
    // checked a moment ago are not checked twice.
    const lastChecked = await store.lastCheckedMany(unique);
    const fresh = unique.filter((email) => (lastChecked.get(email) ?? '') < run.startedAt);
    if ((await checkChunk(run, fresh, requestId, deadline)) === 'next') {
      if (exhausted) moveOn(run, 'digest');
      else moveTo(run, run.step, cursor);
    }
    return fresh.length;
  }

  return { storedChunk, discoverChunk };
}
