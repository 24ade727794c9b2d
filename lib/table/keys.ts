import type { UserStatus } from '#lib/check/report.ts';

/**
 * The layout of the product's one table (infra/table.yml): every key prefix and index, and a small
 * builder for each key, so no store spells a prefix itself. The formats are stored data: changing
 * one orphans every item already written with it.
 *
 * Item kinds (pk / sk; gsi1pk / gsi1sk when indexed; TTL is the `expiresAt` attribute):
 * - latest result:   `USER#<email>` / `LATEST`; gsi1 `STATUS#<status>` / `<since>#<email>`; while it carries
 *                    change events not yet in a posted digest (its outbox), gsi2 `CHANGES#PENDING` /
 *                    `<first event's at>#<email>`. TTL only when `NOT_IN_GONG` with an empty outbox: the
 *                    history retention after someone last asked about the user (the sweep does not count).
 * - last seen:       `USER#<email>` / `SEEN`: the newest check's time and ids, for users whose latest item a
 *                    check left as it was. TTL: the history retention.
 * - history item:    `USER#<email>` / `CHECK#<checkedAt>#<requestId>`. TTL: the history retention (400 days).
 * - pending re-check: `PENDING#<email>` / `PENDING`; gsi1 `PENDING` / `<dueAt>#<email>`. TTL: a day after
 *                    its re-checks give up.
 * - Gong call slot:  `RATE#<key>` / `<block, 16 digits>`. TTL: two minutes.
 * - Gong pause:      `RATE#<key>` / `PAUSE` (`pauseUntil`, epoch ms, after a 429). TTL: an hour after the pause.
 * - Gong budget:     `RATE#<key>` / `BUDGET#<UTC day, YYYY-MM-DD>` (`count` of calls reserved). TTL: a day after the day.
 * - idempotency:     `idempotency#<name>` / `<key prefix>#<hash of the key>`, written by Powertools (the prefix
 *                    is the door's `keyPrefix`, else its Lambda's name). TTL: the record's expiry.
 * - sweep lock:      `SWEEP#lock` / `LOCK`. TTL: a day after the lock's `until`.
 * - sweep run:       `SWEEP#run` / `<sweepId>`. TTL: 30 days.
 * - digest page:     `SWEEP#digest#<sweepId>` / `<page, 4 digits>`: the changes one digest names. TTL: 30 days.
 * - daily counts:    `STATS#daily` / `<YYYY-MM-DD>`: the counts of the day's last finished sweep. TTL: 401 days.
 * - nudge mark:      `NUDGE#<email>` / `<since>#<day>`. TTL: 30 days.
 */

/** A primary key of the table (a type alias, so it passes where the SDK wants a plain record). */
export type TableKey = { pk: string; sk: string };

/**
 * The first secondary index, overloaded by partition: `STATUS#<status>` (latest results), `PENDING`
 * (CRM re-checks).
 */
export const STATUS_INDEX = 'gsi1';

/**
 * The sparse second index: only latest items whose outbox holds change events not yet in a posted
 * digest are in it, so one Query reads every pending change.
 */
export const OUTBOX_INDEX = 'gsi2';

/** The attributes of a key read through the outbox index. */
export const OUTBOX_KEY_ATTRIBUTES = ['pk', 'sk', 'gsi2pk', 'gsi2sk'] as const;

/** The attributes of a key read through the status index, as DynamoDB returns them in LastEvaluatedKey. */
export const INDEX_KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk'] as const;
/** The attributes of a key read from the table itself. */
export const TABLE_KEY_ATTRIBUTES = ['pk', 'sk'] as const;

// --- Users: latest result and history ---

/** The sort key of a user's latest result. */
export const LATEST = 'LATEST';
/** Every history item's sort key starts with this; the latest item's does not. */
export const HISTORY_PREFIX = 'CHECK#';

/** The partition holding one user's latest result and history. */
export function userPartition(email: string): string {
  return `USER#${email}`;
}

export function latestKey(email: string): TableKey {
  return { pk: userPartition(email), sk: LATEST };
}

/** The sort key of a user's last-seen item. */
export const SEEN = 'SEEN';

export function seenKey(email: string): TableKey {
  return { pk: userPartition(email), sk: SEEN };
}

export function historyKey(email: string, checkedAt: string, requestId: string): TableKey {
  return { pk: userPartition(email), sk: `${HISTORY_PREFIX}${checkedAt}#${requestId}` };
}

/** The status-index partition of every user whose latest result has this status. */
export function statusPartition(status: UserStatus): string {
  return `STATUS#${status}`;
}

/** A latest result's place in its status partition: ordered by when the user entered the status. */
export function statusSortKey(since: string, email: string): string {
  return `${since}#${email}`;
}

/**
 * The status sort-key prefix of users who entered the status on `day` (UTC `YYYY-MM-DD`): `since` is
 * an ISO timestamp and leads the sort key, so its date is a prefix of it.
 */
export function enteredOnPrefix(day: string): string {
  return day;
}

// --- Change events (the outbox on each latest item) ---

/** The outbox-index partition of every latest item with change events not yet in a posted digest. */
export const CHANGES_PENDING = 'CHANGES#PENDING';

/** A pending latest item's place in the outbox index: by its oldest pending change. */
export function changePendingSortKey(at: string, email: string): string {
  return `${at}#${email}`;
}

/** A change event's id within its user's outbox: unique per check (one result per user per check). */
export function changeEventId(at: string, requestId: string): string {
  return `${at}#${requestId}`;
}

// --- Pending CRM re-checks ---

/** The status-index partition every pending user shares, ordered by due time. */
export const PENDING_PARTITION = 'PENDING';

/** The sort key of every pending re-check (one item per user). */
export const PENDING_SK = 'PENDING';

export function pendingKey(email: string): TableKey {
  return { pk: `PENDING#${email}`, sk: PENDING_SK };
}

export function pendingSortKey(dueAt: string, email: string): string {
  return `${dueAt}#${email}`;
}

/** An exclusive upper bound above every pending sort key due at or before `asOf` (ISO). */
export function pendingDueBound(asOf: string): string {
  // '$' sorts right after '#', so every "<dueAt>#<email>" with dueAt <= asOf is below it.
  return `${asOf}$`;
}

// --- Gong call slots ---

/** The partition of one Gong budget's call slots. */
export function rateSlotPartition(key: string): string {
  return `RATE#${key}`;
}

/** A block's sort key, zero-padded so that blocks sort by number. */
export function rateSlotSortKey(block: number): string {
  return String(block).padStart(16, '0');
}

/** The item every container reads before a call: until when a 429 paused the whole deployment. */
export function gongPauseKey(key: string): TableKey {
  return { pk: rateSlotPartition(key), sk: 'PAUSE' };
}

/** The counter of one UTC day's Gong calls (`day` is `YYYY-MM-DD`), in the slots' partition (infra/roles.yml allows `RATE#*`). */
export function gongBudgetKey(key: string, day: string): TableKey {
  return { pk: rateSlotPartition(key), sk: `BUDGET#${day}` };
}

// --- Powertools idempotency ---

/** The fixed partition of one door's idempotency records; infra/roles.yml names it in LeadingKeys. */
export function idempotencyPartition(name: string): string {
  return `idempotency#${name}`;
}

// --- The sweep ---

export const SWEEP_LOCK_KEY: Readonly<TableKey> = { pk: 'SWEEP#lock', sk: 'LOCK' };

export function sweepRunKey(sweepId: string): TableKey {
  return { pk: 'SWEEP#run', sk: sweepId };
}

export function nudgeKey(email: string, since: string, day: number): TableKey {
  return { pk: `NUDGE#${email}`, sk: `${since}#${day}` };
}

/** One page of the changes a sweep's digest names (kept apart from the run item: DynamoDB's 400 KB limit). */
export function digestPageKey(sweepId: string, page: number): TableKey {
  return { pk: `SWEEP#digest#${sweepId}`, sk: String(page).padStart(4, '0') };
}

export function digestPartition(sweepId: string): string {
  return `SWEEP#digest#${sweepId}`;
}

// --- Daily counts (the GET /v1/stats/daily snapshot) ---

export const DAILY_STATS_PARTITION = 'STATS#daily';

export function dailyStatsKey(date: string): TableKey {
  return { pk: DAILY_STATS_PARTITION, sk: date };
}
