import type { Logger } from '@aws-lambda-powertools/logger';
import type { CheckUsers } from '#lib/check/check-users.ts';
import { type FailureCode, GongFailureError } from '#lib/check/failures.ts';
import type { UserStatus } from '#lib/check/report.ts';
import { describeError } from '#lib/errors.ts';
import { MAX_EMAILS_PER_CALL } from '#lib/gong/status-client.ts';
import type { GongDirectory } from '#lib/gong/users-client.ts';
import { type ChangeEvent, type ChangeLog, netChanges } from '#lib/history/change-log.ts';
import type { HistoryStore } from '#lib/history/history-store.ts';
import { mapLimit } from '#lib/map-limit.ts';
import { buildChangeDigest, buildNudgeMessage } from '#lib/slack/digest.ts';
import type { SweepNotifier } from '#lib/sweep/notifier.ts';
import type { SweepRun, SweepStore } from '#lib/sweep/sweep-store.ts';

/** The event a sweep hands the rest of its work to: the run to continue. */
export interface SweepContinuation {
  sweepId: string;
}

/** DESIGN.md's answer: `done: false` means a fresh invocation carries on. */
export interface SweepAnswer {
  checked: number;
  broke: string[];
  fixed: string[];
  done: boolean;
}

/** The sweep had to stop: Gong refused its credentials or the endpoint. */
export class SweepAbortedError extends Error {
  override name = 'SweepAbortedError';
}

interface SweepDeps {
  store: HistoryStore;
  checkUsers: CheckUsers;
  sweeps: SweepStore;
  changes: ChangeLog;
  notifier: SweepNotifier;
  logger: Logger;
  /** Starts a fresh invocation on the continuation (async self-invoke). */
  handOff(event: SweepContinuation): Promise<void>;
  /** Gong calls a second for the whole deployment (GONG_MAX_RPS): sizes each chunk. */
  rps: number;
  /** Set when SWEEP_DISCOVER=true: Gong's own user list joins the sweep. */
  directory?: GongDirectory;
  /** NUDGE_USERS=true: DM broken users on days 1, 3 and 7. */
  nudge?: boolean;
  /** Gong time per chunk; progress is saved after each. */
  chunkSeconds?: number;
  /** How long the lock waits for the handed-off invocation to start (async invokes can queue). */
  handOffGraceMs?: number;
  /** The sweep's calendar (its start, nudge days); time budgets follow the real clock, as deadlines do. */
  now?: () => number;
}

// Stored users are read status by status from the status index (gsi1): a Query each, never a Scan.
const PARTITIONS: readonly UserStatus[] = ['OK', 'INVALID', 'NOT_IN_GONG'];
const NUDGE_DAYS = [1, 3, 7] as const;
/** What a failed user does to the sweep: stop it (nobody will be answered), retry from the same position, or be left. */
const ON_FAILURE: Record<FailureCode, 'abort' | 'retry' | 'skip'> = {
  GONG_UNAVAILABLE: 'retry',
  GONG_RATE_LIMITED: 'retry',
  GONG_BUDGET_SPENT: 'retry',
  GONG_CREDENTIALS: 'abort',
  GONG_AUTH: 'abort',
  GONG_FORBIDDEN: 'abort',
  GONG_BAD_REQUEST: 'skip',
  GONG_UNEXPECTED_STATUS: 'skip',
  GONG_BAD_RESPONSE: 'skip',
  GONG_INCOMPLETE_ANSWER: 'skip',
};
/** The same for listing Gong's users: only refused credentials stop the sweep (a 403 there is the users scope alone). */
const ON_DISCOVERY_FAILURE: Record<FailureCode, 'abort' | 'retry' | 'skip'> = {
  ...ON_FAILURE,
  GONG_CREDENTIALS: 'skip',
  GONG_FORBIDDEN: 'skip',
};
/** Chunks in a row that may end with retryable failures at one position before those users are left for the next sweep. */
const MAX_RETRIES = 3;
/** Most Gong calls in one chunk, however high the rate. */
const MAX_CHUNK_CALLS = 50;
/** First guess of what a chunk costs beyond its paced calls (Gong's latency, DynamoDB writes). */
const FIRST_OVERHEAD_MS = 1_000;
/** The lock outlives the invocation's deadline by this much, should the invocation die without releasing it. */
const LOCK_MARGIN_MS = 60_000;
const NUDGE_PAGE = 25;
const DAY_MS = 86_400_000;

const IDLE: SweepAnswer = { checked: 0, broke: [], fixed: [], done: true };

/**
 * The sweep: re-checks every stored user (and, with discovery, every active Gong user) at the rate
 * ceiling, posts one digest of what changed, nudges the broken. Its progress lives in the table, so
 * when time runs out it hands the rest to a fresh invocation; a lock keeps a second sweep out.
 */
export function createSweep(deps: SweepDeps) {
  const { store, sweeps, logger } = deps;
  const now = deps.now ?? Date.now;
  const chunkSeconds = deps.chunkSeconds ?? 10;
  const handOffGraceMs = deps.handOffGraceMs ?? 15 * 60_000;
  const maxChunkCalls = Math.max(1, Math.min(MAX_CHUNK_CALLS, Math.ceil(deps.rps * chunkSeconds)));

  async function startRun(id: string): Promise<SweepRun> {
    const run: SweepRun = {
      id,
      startedAt: new Date(now()).toISOString(),
      phase: 'stored',
      step: 0,
      retries: 0,
      checked: 0,
    };
    await sweeps.saveRun(run);
    return run;
  }

  /** Runs one chunk's checks; true when the position may move past these users. */
  async function checkChunk(run: SweepRun, emails: string[], requestId: string, deadline: number) {
    if (emails.length === 0) return true;
    // One check for the whole chunk: its batches are paced at the ceiling, and each is stored as
    // soon as Gong answers it.
    const { results, failures } = await deps.checkUsers(emails, { source: 'sweep', requestId, deadline });
    run.checked += results.filter((result) => result.stored !== false).length;
    const fatal = failures.find((failure) => ON_FAILURE[failure.code] === 'abort');
    if (fatal) throw new SweepAbortedError(`Sweep stopped: ${fatal.message} (${fatal.code})`);
    // Users that failed for a passing reason are tried again from the same position; the ones
    // checked meanwhile are skipped then, as their latest result is newer than the sweep's start.
    const again =
      failures.filter((failure) => ON_FAILURE[failure.code] === 'retry').length +
      results.filter((result) => result.stored === false).length;
    if (failures.length > 0) {
      logger.warn('Sweep could not check some users', {
        sweepId: run.id,
        failed: failures.length,
        codes: [...new Set(failures.map((failure) => failure.code))],
      });
    }
    if (again === 0) return true;
    run.retries += 1;
    if (run.retries <= MAX_RETRIES) return false;
    // Gong answering nobody, chunk after chunk, is an outage: stop rather than crawl through everyone.
    if (results.length === 0) {
      throw new SweepAbortedError(
        `Sweep stopped: Gong answered none of ${emails.length} users ${run.retries} times in a row`,
      );
    }
    logger.error('Sweep leaves users unchecked after retries', { sweepId: run.id, count: again });
    return true;
  }

  function moveOn(run: SweepRun, phase: SweepRun['phase']): void {
    run.phase = phase;
    run.step = 0;
    run.retries = 0;
    delete run.cursor;
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
    if (await checkChunk(run, [...emails], requestId, deadline)) {
      if (step >= PARTITIONS.length) {
        moveOn(run, deps.directory ? 'discover' : 'digest');
      } else {
        run.step = step;
        run.retries = 0;
        if (cursor === undefined) delete run.cursor;
        else run.cursor = cursor;
      }
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
    const latest = await store.getLatestMany(unique);
    const fresh = unique.filter((email) => (latest.get(email)?.checkedAt ?? '') < run.startedAt);
    if (await checkChunk(run, fresh, requestId, deadline)) {
      if (exhausted) {
        moveOn(run, 'digest');
      } else {
        run.retries = 0;
        if (cursor === undefined) delete run.cursor;
        else run.cursor = cursor;
      }
    }
    return fresh.length;
  }

  /**
   * Posts one digest of every pending change event, whenever it was stored: an event written after
   * this Query stays pending and goes into the next digest, so none is lost to timing.
   */
  async function postDigest(run: SweepRun) {
    const pending = await deps.changes.listPending();
    const { broke, fixed } = netChanges(pending.map((entry) => entry.event));
    if (broke.length + fixed.length > 0) {
      const [invalid, notInGong] = await Promise.all([
        sweeps.countStatus('INVALID'),
        sweeps.countStatus('NOT_IN_GONG'),
      ]);
      await deps.notifier.postDigest(
        buildChangeDigest({ broke, fixed, stillBroken: { invalid, notInGong }, checked: run.checked }),
      );
    }
    // Only after posting, and exactly the events read: a failed post leaves them pending for the
    // next sweep. Events with no net change (broke and fixed again) are done with too.
    await deps.changes.markPosted(
      pending.map((entry) => entry.key),
      { sweepId: run.id, at: new Date(now()).toISOString() },
    );
    logger.info('Sweep digest', { sweepId: run.id, broke: broke.length, fixed: fixed.length });
    moveOn(run, deps.nudge ? 'nudge' : 'done');
    // Saved with the run: a later invocation answers with the digest this sweep posted.
    run.digest = { broke: emailsOf(broke), fixed: emailsOf(fixed) };
  }

  /**
   * Nudges the users who entered INVALID on the day that is 1, 3 or 7 days before the sweep's
   * start (UTC dates, so the time a daily sweep happens to run does not matter). Users fixed since
   * are no longer INVALID and are never listed; a mark per user, spell and day sends each nudge once.
   */
  async function nudgeChunk(run: SweepRun) {
    const day = NUDGE_DAYS[run.step];
    if (day === undefined) {
      moveOn(run, 'done');
      return 0;
    }
    const date = new Date(Date.parse(run.startedAt) - day * DAY_MS).toISOString().slice(0, 10);
    const page = await sweeps.listEnteredOn('INVALID', date, {
      limit: NUDGE_PAGE,
      ...(run.cursor === undefined ? {} : { cursor: run.cursor }),
    });
    let sent = 0;
    let missing = 0;
    await mapLimit(page.items, 4, async (user) => {
      if (!(await sweeps.markNudge(user.email, user.since, day))) return;
      try {
        if (await deps.notifier.nudge(user.email, buildNudgeMessage(user))) sent += 1;
        else missing += 1;
      } catch (error: unknown) {
        logger.warn('Sweep could not nudge a user', { sweepId: run.id, day, error: describeError(error) });
      }
    });
    if (sent + missing > 0) logger.info('Sweep nudges', { sweepId: run.id, day, sent, noSlackUser: missing });
    if (page.nextCursor === undefined) {
      run.step += 1;
      delete run.cursor;
    } else {
      run.cursor = page.nextCursor;
    }
    return page.items.length;
  }

  /** Works through the run's phases until done (true) or until the next chunk would not fit (false). */
  async function advance(run: SweepRun, requestId: string, deadline: number): Promise<boolean> {
    let overheadMs = FIRST_OVERHEAD_MS;
    let chunks = 0;
    while (run.phase !== 'done') {
      const left = deadline - Date.now() - overheadMs;
      const fitCalls = Math.floor((left / 1000) * deps.rps);
      // The first chunk of an invocation always runs: every invocation makes progress.
      if (chunks > 0 && fitCalls < 1) return false;
      const calls = Math.max(1, Math.min(maxChunkCalls, fitCalls));
      const started = Date.now();
      let emails = 0;
      if (run.phase === 'stored') emails = await storedChunk(run, calls, requestId, deadline);
      else if (run.phase === 'discover') emails = await discoverChunk(run, calls, requestId, deadline);
      else if (run.phase === 'digest') await postDigest(run);
      else await nudgeChunk(run);
      await sweeps.saveRun(run);
      chunks += 1;
      const pacedMs = (Math.max(0, Math.ceil(emails / MAX_EMAILS_PER_CALL) - 1) / deps.rps) * 1000;
      overheadMs = Math.max(overheadMs, Date.now() - started - pacedMs);
    }
    return true;
  }

  async function answer(run: SweepRun, done: boolean): Promise<SweepAnswer> {
    // Before its digest, a sweep answers with what the digest would name so far.
    const named = run.digest ?? (await pendingNames());
    return { checked: run.checked, broke: named.broke, fixed: named.fixed, done };
  }

  async function pendingNames() {
    const { broke, fixed } = netChanges((await deps.changes.listPending()).map((entry) => entry.event));
    return { broke: emailsOf(broke), fixed: emailsOf(fixed) };
  }

  return async function sweep(
    event: unknown,
    context: { requestId: string; deadline: number },
  ): Promise<SweepAnswer> {
    const continuing = continuationOf(event);
    const id = continuing ?? context.requestId;
    if (!(await sweeps.acquireLock(id, context.deadline + LOCK_MARGIN_MS))) {
      logger.info('Another sweep holds the lock; this one exits', { sweepId: id });
      return IDLE;
    }
    let handedOff = false;
    try {
      // A retried invocation has the same request id: it finds its run and carries on.
      let run = await sweeps.loadRun(id);
      if (!run) {
        if (continuing) {
          logger.warn('No saved sweep to continue', { sweepId: id });
          return IDLE;
        }
        run = await startRun(id);
      }
      if (await advance(run, context.requestId, context.deadline)) {
        logger.info('Sweep done', { sweepId: id, checked: run.checked });
        return await answer(run, true);
      }
      // The lock now waits for the fresh invocation rather than for this one's deadline.
      await sweeps.acquireLock(id, Date.now() + handOffGraceMs);
      await deps.handOff({ sweepId: id });
      handedOff = true;
      logger.info('Sweep handed the rest to a fresh invocation', { sweepId: id, checked: run.checked });
      return await answer(run, false);
    } finally {
      if (!handedOff) await sweeps.releaseLock(id);
    }
  };
}

function emailsOf(events: ChangeEvent[]): string[] {
  return events.map((event) => event.email);
}

function continuationOf(event: unknown): string | undefined {
  if (event === null || typeof event !== 'object' || !('sweepId' in event)) return undefined;
  const { sweepId } = event as { sweepId: unknown };
  return typeof sweepId === 'string' && sweepId.length > 0 && sweepId.length <= 200 ? sweepId : undefined;
}
