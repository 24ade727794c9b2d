import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { CheckUsers } from '#lib/check/check-users.ts';
import type { FailureCode } from '#lib/check/failures.ts';
import { describeError } from '#lib/errors/errors.ts';
import { MAX_EMAILS_PER_CALL } from '#lib/gong/status-client.ts';
import type { GongDirectory } from '#lib/gong/users-client.ts';
import type { ChangeLog } from '#lib/history/change-log.ts';
import type { HistoryStore } from '#lib/history/history-store.ts';
import { createChecking } from '#lib/sweep/checking.ts';
import { createDailySnapshot, type SweepMetrics } from '#lib/sweep/daily-snapshot.ts';
import { createDigestPosting } from '#lib/sweep/digest-posting.ts';
import type { SweepNotifier } from '#lib/sweep/notifier.ts';
import { createNudging } from '#lib/sweep/nudges.ts';
import type { SweepRun, SweepStore } from '#lib/sweep/sweep-store.ts';

export { SweepAbortedError } from '#lib/sweep/checking.ts';

/**
 * The event a sweep hands the rest of its work to: the run to continue and the lock token it hands
 * over with it. Only the invocation that swaps that token for its own carries on.
 */
export interface SweepContinuation {
  sweepId: string;
  token: string;
}

/** README's answer: `done: false` means a fresh invocation carries on. */
export interface SweepAnswer {
  checked: number;
  broke: string[];
  fixed: string[];
  done: boolean;
  /**
   * Present when the sweep stopped before checking everyone: background work's share of the day's
   * Gong budget is spent (README › Staying under Gong's limits), and `reason` says so with its figures.
   */
  stopped?: FailureCode;
  reason?: string;
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
  metrics?: SweepMetrics;
  /** Gong time per chunk; progress is saved after each. */
  chunkSeconds?: number;
  /** How long the lock waits for the handed-off invocation to start (async invokes can queue). */
  handOffGraceMs?: number;
  /** The sweep's calendar (its start, nudge days); time budgets follow the real clock, as deadlines do. */
  now?: () => number;
}

/** Most Gong calls in one chunk, however high the rate. */
const MAX_CHUNK_CALLS = 50;
/** First guess of what a chunk costs beyond its paced calls (Gong's latency, DynamoDB writes). */
const FIRST_OVERHEAD_MS = 1_000;
/** The lock outlives the invocation's deadline by this much, should the invocation die without releasing it. */
const LOCK_MARGIN_MS = 60_000;

const IDLE: SweepAnswer = { checked: 0, broke: [], fixed: [], done: true };

/**
 * The sweep: re-checks every stored user (and, with discovery, every active Gong user) at the rate
 * ceiling, posts one digest of what changed, nudges the broken, stores the day's counts. Its progress
 * lives in the table, so when time runs out it hands the rest to a fresh invocation; a lock whose
 * token is each invocation's own keeps a second sweep, or a second delivery of the same event, out.
 */
export function createSweep(deps: SweepDeps) {
  const { sweeps, logger } = deps;
  const now = deps.now ?? Date.now;
  const chunkSeconds = deps.chunkSeconds ?? 10;
  const handOffGraceMs = deps.handOffGraceMs ?? 15 * 60_000;
  const maxChunkCalls = Math.max(1, Math.min(MAX_CHUNK_CALLS, Math.ceil(deps.rps * chunkSeconds)));
  const checking = createChecking(deps);
  const digest = createDigestPosting({
    changes: deps.changes,
    sweeps,
    notifier: deps.notifier,
    logger,
    now,
    ...(deps.metrics ? { onPosted: (count: number) => deps.metrics?.changesPosted(count) } : {}),
  });
  const nudgeChunk = createNudging({ sweeps, notifier: deps.notifier, logger });
  const snapshot = createDailySnapshot({
    sweeps,
    logger,
    now,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });

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

  /** One chunk of the run's current phase; returns how many users it sent to Gong. */
  async function step(run: SweepRun, calls: number, requestId: string, deadline: number): Promise<number> {
    switch (run.phase) {
      case 'stored':
        return checking.storedChunk(run, calls, requestId, deadline);
      case 'discover':
        return checking.discoverChunk(run, calls, requestId, deadline);
      case 'digest':
        await digest.post(run);
        if (!deps.nudge) run.phase = 'stats';
        return 0;
      case 'nudge':
        return nudgeChunk(run);
      case 'stats':
        await snapshot(run);
        return 0;
      case 'done':
        return 0;
    }
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
      const emails = await step(run, calls, requestId, deadline);
      await sweeps.saveRun(run);
      chunks += 1;
      const pacedMs = (Math.max(0, Math.ceil(emails / MAX_EMAILS_PER_CALL) - 1) / deps.rps) * 1000;
      overheadMs = Math.max(overheadMs, Date.now() - started - pacedMs);
    }
    return true;
  }

  async function answer(run: SweepRun, done: boolean): Promise<SweepAnswer> {
    // Before its digest, a sweep answers with what the digest would name so far.
    const named = await digest.names(run);
    return {
      checked: run.checked,
      broke: named.broke,
      fixed: named.fixed,
      done,
      ...(run.stopped ? { stopped: run.stopped.code } : {}),
      ...(run.stopped?.message ? { reason: run.stopped.message } : {}),
    };
  }

  /** A lock left behind keeps every sweep out until its deadline passes: try a few times. */
  async function releaseInsistently(token: string): Promise<void> {
    for (let attempt = 1; attempt <= 4; attempt++) {
      try {
        return await sweeps.releaseLock(token);
      } catch (error: unknown) {
        if (attempt === 4) {
          logger.warn('Could not release the sweep lock; it expires by itself', {
            error: describeError(error),
          });
          return;
        }
        await sleep(100 * 2 ** attempt);
      }
    }
  }

  /**
   * Hands the lock and the rest of the run to a fresh invocation. True once the hand-off happened
   * (the lock is then the continuation's); false when it surely did not (the lock is ours again).
   */
  async function handOver(id: string, token: string, deadline: number): Promise<boolean> {
    const next = randomUUID();
    // The lock now waits for the fresh invocation rather than for this one's deadline.
    if (!(await sweeps.transferLock(token, next, Date.now() + handOffGraceMs))) {
      throw new Error('The sweep lock was taken over before the hand-off');
    }
    try {
      await deps.handOff({ sweepId: id, token: next });
      return true;
    } catch (error: unknown) {
      // The invoke may have been accepted with its answer lost: if the continuation has taken the
      // lock, the hand-off happened; if the token is still there, take it back and fail.
      if (await sweeps.transferLock(next, token, deadline + LOCK_MARGIN_MS)) throw error;
      logger.warn('Sweep hand-off answered with an error, but the continuation has the lock', {
        sweepId: id,
        error: describeError(error),
      });
      return true;
    }
  }

  return async function sweep(
    event: unknown,
    context: { requestId: string; deadline: number },
  ): Promise<SweepAnswer> {
    const continuing = continuationOf(event);
    if (continuing === 'malformed') {
      logger.warn('A continuation without its lock token is refused');
      return IDLE;
    }
    const id = continuing?.sweepId ?? context.requestId;
    const token = randomUUID();
    const until = context.deadline + LOCK_MARGIN_MS;
    const locked = continuing
      ? await sweeps.transferLock(continuing.token, token, until)
      : await sweeps.acquireLock(token, until);
    if (!locked) {
      logger.info('Another invocation owns the sweep; this one exits', { sweepId: id });
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
      } else if (run.phase === 'done') {
        // The same event again after its sweep finished (Lambda delivers async events at least once).
        logger.info('This sweep has finished already', { sweepId: id });
        return IDLE;
      }
      if (await advance(run, context.requestId, context.deadline)) {
        logger.info('Sweep done', { sweepId: id, checked: run.checked, stopped: run.stopped?.code });
        return await answer(run, true);
      }
      // Everything that can fail comes before the hand-off: after it, another invocation owns the run.
      const answered = await answer(run, false);
      handedOff = await handOver(id, token, context.deadline);
      logger.info('Sweep handed the rest to a fresh invocation', { sweepId: id, checked: run.checked });
      return answered;
    } finally {
      if (!handedOff) {
        await releaseInsistently(token);
      }
    }
  };
}

/** The continuation an event carries, undefined for a scheduled start, 'malformed' for anything else with a `sweepId`. */
function continuationOf(event: unknown): SweepContinuation | 'malformed' | undefined {
  if (event === null || typeof event !== 'object' || !('sweepId' in event)) return undefined;
  const { sweepId, token } = event as { sweepId: unknown; token?: unknown };
  const valid = (value: unknown): value is string =>
    typeof value === 'string' && value.length > 0 && value.length <= 200;
  return valid(sweepId) && valid(token) ? { sweepId, token } : 'malformed';
}
