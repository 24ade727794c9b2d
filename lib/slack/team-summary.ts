import type { UserStatus } from '#lib/check/report.ts';
import type { HistoryStore, LatestResult } from '#lib/history/history-store.ts';

/** How the known users stand: a count per status, and the first broken ones (longest broken first). */
export interface TeamSummary {
  counts: Record<UserStatus, number>;
  broken: LatestResult[];
  /** Broken users beyond `broken`. */
  moreBroken: number;
}

const STATUSES: readonly UserStatus[] = ['INVALID', 'NOT_IN_GONG', 'OK'];

/**
 * Walks the status index (gsi1) once per status. Counting needs every page; the index is
 * sorted by `since`, so the listed broken users are the ones broken the longest.
 */
export async function summariseTeam(
  store: Pick<HistoryStore, 'listByStatus'>,
  options: { show?: number; pageSize?: number } = {},
): Promise<TeamSummary> {
  const show = options.show ?? 20;
  const pageSize = options.pageSize ?? 500;
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
      if (status !== 'OK') broken.push(...page.items.slice(0, Math.max(0, show - broken.length)));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
  return { counts, broken, moreBroken: counts.INVALID + counts.NOT_IN_GONG - broken.length };
}
