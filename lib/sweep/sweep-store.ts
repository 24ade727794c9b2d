import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { FailureCode } from '#lib/check/failures.ts';
import type { UserStatus } from '#lib/check/report.ts';
import type { ChangeEvent } from '#lib/history/change-log.ts';
import { decodeCursor, encodeCursor } from '#lib/table/cursor.ts';
import {
  DAILY_STATS_PARTITION,
  dailyStatsKey,
  digestPageKey,
  digestPartition,
  enteredOnPrefix,
  INDEX_KEY_ATTRIBUTES,
  LATEST,
  nudgeKey,
  STATUS_INDEX,
  SWEEP_LOCK_KEY,
  statusPartition,
  sweepRunKey,
} from '#lib/table/keys.ts';

/** Where a sweep is: which phase, and how far into it. Saved after every chunk, so any invocation can go on. */
export interface SweepRun {
  id: string;
  /** Users whose latest result is at least this recent were checked by this sweep already. */
  startedAt: string;
  phase: 'stored' | 'discover' | 'digest' | 'nudge' | 'stats' | 'done';
  /** Index into the phase's list (status partitions, nudge days). */
  step: number;
  /** Where to read on within the step: a listing cursor or Gong's page cursor. */
  cursor?: string;
  /** Chunks in a row that ended with retryable failures at this same position. */
  retries: number;
  checked: number;
  /** The digest once planned: its changes are in `pages` digest-page items, posted once `state` says so. */
  digest?: { state: 'planned' | 'posted'; pages: number; changes: number };
  /** Why the sweep stopped before checking everyone, and where it was (`message`: absent in a run stored before it was kept). */
  stopped?: { code: FailureCode; message?: string; phase: SweepRun['phase']; step: number; cursor?: string };
}

/** One page of a digest's plan: the net changes it names and exactly the outbox events it takes. */
export interface DigestPage {
  broke: ChangeEvent[];
  fixed: ChangeEvent[];
  clear: { email: string; ids: string[] }[];
}

/** The day's counts, as the daily snapshot keeps them. */
export interface DailyStats {
  date: string;
  ok: number;
  invalid: number;
  notInGong: number;
}

/** The sweep's own items in the one table: the lock, run state and nudge marks. */
export interface SweepStore {
  /** Takes a free (or expired) lock for `token` until `untilMs`; false while any live owner holds it. */
  acquireLock(token: string, untilMs: number): Promise<boolean>;
  /** Moves the lock from `from` to `to` (the same token renews it); false when `from` no longer holds it. */
  transferLock(from: string, to: string, untilMs: number): Promise<boolean>;
  releaseLock(token: string): Promise<void>;
  loadRun(id: string): Promise<SweepRun | undefined>;
  saveRun(run: SweepRun): Promise<void>;
  saveDigestPages(sweepId: string, pages: DigestPage[]): Promise<void>;
  loadDigestPages(sweepId: string): Promise<DigestPage[]>;
  /** Stores the day's counts (a later sweep of the same day replaces them). */
  saveDailyStats(stats: DailyStats): Promise<void>;
  /** The snapshots of the last `days` UTC days up to `today`, oldest first (one per day a sweep finished). */
  listDailyStats(days: number, today?: string): Promise<DailyStats[]>;
  /** The newest snapshot stored, whatever its day. */
  latestDailyStats(): Promise<DailyStats | undefined>;
  /** Records that `email` gets the nudge for `day` of the spell that began at `since`; false when it had it already. */
  markNudge(email: string, since: string, day: number): Promise<boolean>;
  /** How many users have this status now. */
  countStatus(status: UserStatus): Promise<number>;
  /** Users who entered `status` on the UTC date `day` (YYYY-MM-DD), a page at a time. */
  listEnteredOn(
    status: UserStatus,
    day: string,
    page: { limit: number; cursor?: string },
  ): Promise<{
    items: { email: string; since: string; userFacingError?: string; fixUrl?: string; helpUrl?: string }[];
    nextCursor?: string;
  }>;
}

const KEEP_SECONDS = 30 * 86_400;
/** The stats route reads up to 400 days back. */
const STATS_KEEP_SECONDS = 401 * 86_400;
const DAY_MS = 86_400_000;

/** DynamoDB-backed sweep state; the lock is a conditional put (dynalite has no transactions). */
export function createSweepStore(options: {
  db: DynamoDBDocumentClient;
  table: string;
  now?: () => number;
}): SweepStore {
  const { db, table } = options;
  const now = options.now ?? Date.now;
  const expiresAt = () => Math.floor(now() / 1000) + KEEP_SECONDS;

  async function conditionalPut(
    item: Record<string, unknown>,
    condition: string,
    expression: { names?: Record<string, string>; values?: Record<string, unknown> } = {},
  ) {
    try {
      await db.send(
        new PutCommand({
          TableName: table,
          Item: item,
          ConditionExpression: condition,
          ...(expression.names ? { ExpressionAttributeNames: expression.names } : {}),
          ...(expression.values ? { ExpressionAttributeValues: expression.values } : {}),
        }),
      );
      return true;
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  return {
    async acquireLock(token, untilMs) {
      const taken = await conditionalPut(
        // TTL tidies an abandoned lock away eventually; `until` is what the condition trusts. The
        // token is this invocation's own: a second delivery of the same event has another one.
        { ...SWEEP_LOCK_KEY, owner: token, until: untilMs, expiresAt: Math.ceil(untilMs / 1000) + 86_400 },
        'attribute_not_exists(pk) OR #until < :now',
        { names: { '#until': 'until' }, values: { ':now': now() } },
      );
      if (taken) return true;
      // A retried put that was applied (its answer lost) fails its own condition: the lock is ours.
      const out = await db.send(
        new GetCommand({ TableName: table, Key: SWEEP_LOCK_KEY, ConsistentRead: true }),
      );
      return out.Item?.owner === token;
    },

    async transferLock(from, to, untilMs) {
      // A retried put that was applied (its answer lost) fails its condition: the lock then names `to`.
      if (
        await conditionalPut(
          { ...SWEEP_LOCK_KEY, owner: to, until: untilMs, expiresAt: Math.ceil(untilMs / 1000) + 86_400 },
          '#owner = :from',
          { names: { '#owner': 'owner' }, values: { ':from': from } },
        )
      ) {
        return true;
      }
      if (from === to) return false;
      const out = await db.send(
        new GetCommand({ TableName: table, Key: SWEEP_LOCK_KEY, ConsistentRead: true }),
      );
      return out.Item?.owner === to && Number(out.Item?.until) === untilMs;
    },

    async releaseLock(owner) {
      try {
        await db.send(
          new DeleteCommand({
            TableName: table,
            Key: SWEEP_LOCK_KEY,
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':owner': owner },
          }),
        );
      } catch (error: unknown) {
        // Someone else's lock now (ours expired and was taken over): theirs to release.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },

    async loadRun(id) {
      const out = await db.send(
        new GetCommand({ TableName: table, Key: sweepRunKey(id), ConsistentRead: true }),
      );
      if (!out.Item) return undefined;
      const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...run } = out.Item;
      return run as SweepRun;
    },

    async saveRun(run) {
      await db.send(
        new PutCommand({
          TableName: table,
          Item: { ...run, ...sweepRunKey(run.id), expiresAt: expiresAt() },
        }),
      );
    },

    async saveDigestPages(sweepId, pages) {
      // One item per page, each well under 400 KB; a retry rewrites the same keys.
      for (const [index, page] of pages.entries()) {
        await db.send(
          new PutCommand({
            TableName: table,
            Item: { ...digestPageKey(sweepId, index), ...page, expiresAt: expiresAt() },
          }),
        );
      }
    },

    async loadDigestPages(sweepId) {
      const pages: DigestPage[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await db.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': digestPartition(sweepId) },
            ConsistentRead: true,
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of out.Items ?? []) {
          pages.push({
            broke: (item.broke ?? []) as ChangeEvent[],
            fixed: (item.fixed ?? []) as ChangeEvent[],
            clear: (item.clear ?? []) as DigestPage['clear'],
          });
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return pages;
    },

    async saveDailyStats(stats) {
      await db.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...dailyStatsKey(stats.date),
            ...stats,
            expiresAt: Math.floor(now() / 1000) + STATS_KEEP_SECONDS,
          },
        }),
      );
    },

    async listDailyStats(days, today = new Date(now()).toISOString().slice(0, 10)) {
      const from = new Date(Date.parse(today) - (days - 1) * DAY_MS).toISOString().slice(0, 10);
      const found: DailyStats[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await db.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': DAILY_STATS_PARTITION, ':from': from, ':to': today },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        found.push(...(out.Items ?? []).map(toDailyStats));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return found;
    },

    async latestDailyStats() {
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': DAILY_STATS_PARTITION },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      const item = out.Items?.[0];
      return item ? toDailyStats(item) : undefined;
    },

    markNudge(email, since, day) {
      return conditionalPut(
        {
          ...nudgeKey(email, since, day),
          email,
          day,
          sentAt: new Date(now()).toISOString(),
          expiresAt: expiresAt(),
        },
        'attribute_not_exists(pk)',
      );
    },

    async countStatus(status) {
      let count = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await db.send(
          new QueryCommand({
            TableName: table,
            IndexName: STATUS_INDEX,
            KeyConditionExpression: 'gsi1pk = :status',
            ExpressionAttributeValues: { ':status': statusPartition(status) },
            Select: 'COUNT',
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        count += out.Count ?? 0;
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return count;
    },

    async listEnteredOn(status, day, { limit, cursor }) {
      const partition = statusPartition(status);
      const prefix = enteredOnPrefix(day);
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: STATUS_INDEX,
          KeyConditionExpression: 'gsi1pk = :status AND begins_with(gsi1sk, :day)',
          ExpressionAttributeValues: { ':status': partition, ':day': prefix },
          Limit: limit,
          ...(cursor
            ? {
                ExclusiveStartKey: decodeCursor(cursor, {
                  attributes: INDEX_KEY_ATTRIBUTES,
                  belongs: (key) =>
                    key.gsi1pk === partition && key.sk === LATEST && key.gsi1sk?.startsWith(prefix) === true,
                }),
              }
            : {}),
        }),
      );
      const items = (out.Items ?? []).map((item) => ({
        email: String(item.email),
        since: String(item.since),
        ...(typeof item.userFacingError === 'string' ? { userFacingError: item.userFacingError } : {}),
        ...(typeof item.fixUrl === 'string' ? { fixUrl: item.fixUrl } : {}),
        ...(typeof item.helpUrl === 'string' ? { helpUrl: item.helpUrl } : {}),
      }));
      return out.LastEvaluatedKey ? { items, nextCursor: encodeCursor(out.LastEvaluatedKey) } : { items };
    },
  };
}

function toDailyStats(item: Record<string, unknown>): DailyStats {
  return {
    date: String(item.date),
    ok: Number(item.ok ?? 0),
    invalid: Number(item.invalid ?? 0),
    notInGong: Number(item.notInGong ?? 0),
  };
}
