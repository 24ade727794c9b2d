import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { UserStatus } from '#lib/check/report.ts';
import { decodeCursor, encodeCursor } from '#lib/table/cursor.ts';
import {
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
  phase: 'stored' | 'discover' | 'digest' | 'nudge' | 'done';
  /** Index into the phase's list (status partitions, nudge days). */
  step: number;
  /** Where to read on within the step: a listing cursor or Gong's page cursor. */
  cursor?: string;
  /** Chunks in a row that ended with retryable failures at this same position. */
  retries: number;
  checked: number;
  /** Who the digest this sweep posted named, once posted: every later invocation answers with them. */
  digest?: { broke: string[]; fixed: string[] };
}

/** The sweep's own items in the one table: the lock, run state and nudge marks. */
export interface SweepStore {
  /** Takes (or renews, for the same owner) the lock until `untilMs`; false when another live owner holds it. */
  acquireLock(owner: string, untilMs: number): Promise<boolean>;
  releaseLock(owner: string): Promise<void>;
  loadRun(id: string): Promise<SweepRun | undefined>;
  saveRun(run: SweepRun): Promise<void>;
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
    acquireLock(owner, untilMs) {
      return conditionalPut(
        // TTL tidies an abandoned lock away eventually; `until` is what the condition trusts.
        { ...SWEEP_LOCK_KEY, owner, until: untilMs, expiresAt: Math.ceil(untilMs / 1000) + 86_400 },
        'attribute_not_exists(pk) OR #until < :now OR #owner = :owner',
        { names: { '#until': 'until', '#owner': 'owner' }, values: { ':now': now(), ':owner': owner } },
      );
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
