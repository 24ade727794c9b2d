import type { UserStatus } from '#lib/check/report.ts';
import type { HistoryStore, LatestResult } from '#lib/history/history-store.ts';
import { groupByCause, type Problem } from '#lib/problems/group-by-cause.ts';

/** How the known users stand: a count per status, the broken grouped by cause, and the longest broken. */
export interface TeamSummary {
  counts: Record<UserStatus, number>;
  /** Every broken user read (up to `maxBroken`), grouped by cause, biggest first. */
  problems: Problem[];
  /** The first broken users, longest broken first. */
  broken: LatestResult[];
}

const STATUSES: readonly UserStatus[] = ['INVALID', 'NOT_IN_GONG', 'OK'];
/**
 * Broken users held in memory for the grouping. Beyond this the counts stay exact and the groups
 * describe the longest broken; a worker Lambda holds this many latest items in a few megabytes.
 */
const MAX_BROKEN = 20_000;

/**
 * Walks the status index (gsi1) once per status. Counting needs every page; the index is
 * sorted by `since`, so the listed broken users are the ones broken the longest.
 */
export async function summariseTeam(
  store: Pick<HistoryStore, 'listByStatus'>,
  options: { show?: number; pageSize?: number; maxBroken?: number } = {},
): Promise<TeamSummary> {
  const show = options.show ?? 20;
  const pageSize = options.pageSize ?? 500;
  const maxBroken = options.maxBroken ?? MAX_BROKEN;
  const counts: Record<UserStatus, number> = { OK: 0, INVALID: 0, NOT_IN_GONG: 0 };
  const broken: LatestResult[] = [];
  for (const status of STATUSES) {
    let cursor: string | undefined;
    do {
      const page = await store.listByStatus(
        status,
        cursor === undefined ? { limit: pageSize } : { limit: pageSize, cursor },
      );
      counts[status] += page.items.length;
      if (status !== 'OK') broken.push(...page.items.slice(0, Math.max(0, maxBroken - broken.length)));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  const longest = [...broken].sort((a, b) => a.since.localeCompare(b.since)).slice(0, show);
  return { counts, problems: groupByCause(broken), broken: longest };
}
