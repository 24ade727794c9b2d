import type { Logger } from '@aws-lambda-powertools/logger';
import type { CheckMetrics } from '#lib/observability/metrics.ts';
import { moveOn } from '#lib/sweep/run-progress.ts';
import type { DailyStats, SweepRun, SweepStore } from '#lib/sweep/sweep-store.ts';

/** What the sweep publishes once it has finished. */
export type SweepMetrics = Pick<
  CheckMetrics,
  'usersBroken' | 'brokenShare' | 'brokenShareIncrease' | 'changesPosted'
>;

/** Broken users as a percentage of everyone with a latest result. */
export function brokenShare(stats: DailyStats): number {
  const total = stats.ok + stats.invalid + stats.notInGong;
  return total === 0 ? 0 : ((stats.invalid + stats.notInGong) / total) * 100;
}

/**
 * A finished sweep's last step: the day's counts as the daily snapshot (GET /v1/stats/daily), and the
 * broken share against the previous finished sweep's snapshot (none on the first).
 */
export function createDailySnapshot(deps: {
  sweeps: SweepStore;
  logger: Logger;
  now: () => number;
  metrics?: SweepMetrics;
}) {
  const { sweeps } = deps;
  return async function snapshot(run: SweepRun): Promise<void> {
    const [ok, invalid, notInGong, previous] = await Promise.all([
      sweeps.countStatus('OK'),
      sweeps.countStatus('INVALID'),
      sweeps.countStatus('NOT_IN_GONG'),
      sweeps.latestDailyStats(),
    ]);
    const stats: DailyStats = {
      date: new Date(deps.now()).toISOString().slice(0, 10),
      ok,
      invalid,
      notInGong,
    };
    await sweeps.saveDailyStats(stats);
    const share = brokenShare(stats);
    deps.metrics?.usersBroken(invalid + notInGong);
    deps.metrics?.brokenShare(share);
    if (previous) deps.metrics?.brokenShareIncrease(share - brokenShare(previous));
    deps.logger.info('Sweep counts', { sweepId: run.id, ...stats });
    moveOn(run, 'done');
  };
}
