import type { Logger } from '@aws-lambda-powertools/logger';
import { mapLimit } from '#lib/concurrency/map-limit.ts';
import { describeError } from '#lib/errors/errors.ts';
import { buildNudgeMessage } from '#lib/slack/digest.ts';
import type { SweepNotifier } from '#lib/sweep/notifier.ts';
import { moveOn } from '#lib/sweep/run-progress.ts';
import type { SweepRun, SweepStore } from '#lib/sweep/sweep-store.ts';

const NUDGE_DAYS = [1, 3, 7] as const;
const NUDGE_PAGE = 25;
const DAY_MS = 86_400_000;

/**
 * Nudges the users who entered INVALID on the day that is 1, 3 or 7 days before the sweep's start
 * (UTC dates, so the time a daily sweep happens to run does not matter). Users fixed since are no
 * longer INVALID and are never listed; a mark per user, spell and day sends each nudge once.
 */
export function createNudging(deps: { sweeps: SweepStore; notifier: SweepNotifier; logger: Logger }) {
  const { sweeps, logger } = deps;
  return async function nudgeChunk(run: SweepRun): Promise<number> {
    const day = NUDGE_DAYS[run.step];
    if (day === undefined) {
      moveOn(run, 'stats');
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
  };
}
