import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { UserResult, UserStatus } from '#lib/check/report.ts';
import { changeEventItem } from '#lib/history/change-log.ts';
import { decodeCursor, encodeCursor } from '#lib/table/cursor.ts';
import {
  HISTORY_PREFIX,
  historyKey,
  INDEX_KEY_ATTRIBUTES,
  LATEST,
  latestKey,
  STATUS_INDEX,
  statusPartition,
  statusSortKey,
  TABLE_KEY_ATTRIBUTES,
  userPartition,
} from '#lib/table/keys.ts';

/** A check result as stored (without the report's comparison flags), with where it came from. */
export interface StoredResult extends Omit<UserResult, 'previousValid' | 'changed' | 'stored'> {
  source: string;
  requestId: string;
}

/** The latest result of a user, with when they entered their current status. */
export interface LatestResult extends StoredResult {
  since: string;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface HistoryStore {
  getLatest(email: string): Promise<LatestResult | undefined>;
  getLatestMany(emails: string[]): Promise<Map<string, LatestResult>>;
  /**
   * Writes a history item per result and moves each latest item forward, with a change event for
   * each user who broke or was fixed; returns the emails it could not store.
   */
  record(
    results: UserResult[],
    meta: { source: string; requestId: string; previous: Map<string, LatestResult> },
  ): Promise<Set<string>>;
  listHistory(email: string, page: { limit: number; cursor?: string }): Promise<Page<StoredResult>>;
  listByStatus(status: UserStatus, page: { limit: number; cursor?: string }): Promise<Page<LatestResult>>;
}

interface HistoryStoreOptions {
  db: DynamoDBDocumentClient;
  table: string;
  retentionDays?: number;
  /** Attempts for BatchWrite/BatchGet leftovers (UnprocessedItems) before reporting them. */
  maxAttempts?: number;
  maxConcurrentWrites?: number;
  /** Told why a write failed (the emails it failed for are returned by `record`). */
  onWriteError?: (error: unknown) => void;
}

const STORED_FIELDS = [
  'email',
  'exists',
  'valid',
  'status',
  'userFacingError',
  'fixUrl',
  'helpUrl',
  'checkedAt',
  'gongRequestId',
  'source',
  'requestId',
] as const satisfies readonly (keyof StoredResult)[];

/** DynamoDB-backed history: one item per check, one latest item per user, all in the one table. */
export function createHistoryStore(options: HistoryStoreOptions): HistoryStore {
  const { db, table } = options;
  const retentionSeconds = (options.retentionDays ?? 400) * 86_400;
  const maxAttempts = options.maxAttempts ?? 8;
  // One bound on writes in flight for the whole store, however many batches store at once:
  // a bulk check must not queue hundreds of requests ahead of everything else on the client.
  const writeGate = createGate(options.maxConcurrentWrites ?? 32);

  async function writeHistory(items: Record<string, unknown>[], failed: Set<string>): Promise<void> {
    for (let i = 0; i < items.length; i += 25) {
      let pending = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        if (attempt > maxAttempts) {
          for (const request of pending) failed.add(String(request.PutRequest.Item.email));
          break;
        }
        if (attempt > 1) await sleep(jitteredBackoff(attempt));
        try {
          const out = await writeGate(() =>
            db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } })),
          );
          pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
        } catch (error: unknown) {
          if (!isThrottle(error)) throw error;
        }
      }
    }
  }

  /** True when the item became the latest; false when a newer check got there first. */
  async function writeLatest(item: Record<string, unknown>): Promise<boolean> {
    try {
      await db.send(
        new PutCommand({
          TableName: table,
          Item: item,
          // An older check finishing late must never overwrite a newer one.
          ConditionExpression: 'attribute_not_exists(pk) OR checkedAt < :checkedAt',
          ExpressionAttributeValues: { ':checkedAt': item.checkedAt },
        }),
      );
      return true;
    } catch (error: unknown) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  }

  return {
    async getLatest(email) {
      return (await this.getLatestMany([email])).get(email);
    },

    async getLatestMany(emails) {
      const found = new Map<string, LatestResult>();
      for (let i = 0; i < emails.length; i += 100) {
        let keys: Record<string, unknown>[] = emails.slice(i, i + 100).map((e) => latestKey(e));
        for (let attempt = 1; keys.length > 0; attempt++) {
          if (attempt > maxAttempts) throw new Error(`DynamoDB left ${keys.length} keys unread in ${table}`);
          if (attempt > 1) await sleep(jitteredBackoff(attempt));
          const out = await db.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: keys } } }));
          for (const item of out.Responses?.[table] ?? []) {
            const latest = toLatest(item);
            found.set(latest.email, latest);
          }
          keys = out.UnprocessedKeys?.[table]?.Keys ?? [];
        }
      }
      return found;
    },

    async record(results, { source, requestId, previous }) {
      const failed = new Set<string>();
      const expiresAt = Math.floor(Date.now() / 1000) + retentionSeconds;
      const history = results.map((result) => ({
        ...toStored(result, source, requestId),
        ...historyKey(result.email, result.checkedAt, requestId),
        expiresAt,
      }));
      const latest = results.map((result) => {
        const before = previous.get(result.email);
        const since = before && before.status === result.status ? before.since : result.checkedAt;
        return {
          ...toStored(result, source, requestId),
          ...latestKey(result.email),
          since,
          gsi1pk: statusPartition(result.status),
          gsi1sk: statusSortKey(since, result.email),
        };
      });
      // A change counts only once its result is the latest: a check finishing late changes nothing.
      const changes: Record<string, unknown>[] = [];
      const meta = { source, requestId, expiresAt };
      // Settled, not all: the change events below need every latest write to have finished.
      await Promise.allSettled([
        writeHistory(history, failed).catch((error: unknown) => {
          for (const item of history) failed.add(item.email);
          options.onWriteError?.(error);
        }),
        Promise.all(
          results.map((result, index) =>
            writeGate(() => writeLatest(latest[index] as Record<string, unknown>))
              .then((applied) => {
                const change = applied && changeEventItem(result, previous.get(result.email), meta);
                if (change) changes.push(change);
              })
              .catch((error: unknown) => {
                failed.add(result.email);
                options.onWriteError?.(error);
              }),
          ),
        ),
      ]);
      if (changes.length > 0) {
        await writeHistory(changes, failed).catch((error: unknown) => {
          for (const item of changes) failed.add(String(item.email));
          options.onWriteError?.(error);
        });
      }
      return failed;
    },

    async listHistory(email, { limit, cursor }) {
      const pk = userPartition(email);
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :check)',
          ExpressionAttributeValues: { ':pk': pk, ':check': HISTORY_PREFIX },
          ScanIndexForward: false,
          Limit: limit,
          ...(cursor === undefined
            ? {}
            : {
                ExclusiveStartKey: decodeCursor(cursor, {
                  attributes: TABLE_KEY_ATTRIBUTES,
                  belongs: (key) => key.pk === pk && key.sk?.startsWith(HISTORY_PREFIX) === true,
                }),
              }),
        }),
      );
      return page((out.Items ?? []).map(fromItem), out.LastEvaluatedKey);
    },

    async listByStatus(status, { limit, cursor }) {
      const gsi1pk = statusPartition(status);
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: STATUS_INDEX,
          KeyConditionExpression: 'gsi1pk = :status',
          ExpressionAttributeValues: { ':status': gsi1pk },
          Limit: limit,
          ...(cursor === undefined
            ? {}
            : {
                ExclusiveStartKey: decodeCursor(cursor, {
                  attributes: INDEX_KEY_ATTRIBUTES,
                  belongs: (key) => key.gsi1pk === gsi1pk && key.sk === LATEST,
                }),
              }),
        }),
      );
      return page((out.Items ?? []).map(toLatest), out.LastEvaluatedKey);
    },
  };
}

function toStored(result: UserResult, source: string, requestId: string): StoredResult {
  return fromItem({ ...result, source, requestId });
}

/** Only the stored fields, whatever else the item or result carries (keys, GSI attributes, report flags). */
function fromItem(item: Record<string, unknown>): StoredResult {
  const out: Record<string, unknown> = {};
  for (const field of STORED_FIELDS) if (item[field] !== undefined) out[field] = item[field];
  return out as unknown as StoredResult;
}

function toLatest(item: Record<string, unknown>): LatestResult {
  return { ...fromItem(item), since: String(item.since ?? item.checkedAt) };
}

function page<T>(items: T[], lastKey: Record<string, unknown> | undefined): Page<T> {
  return lastKey ? { items, nextCursor: encodeCursor(lastKey) } : { items };
}

function jitteredBackoff(attempt: number): number {
  return Math.random() * Math.min(2_000, 50 * 2 ** attempt);
}

function isThrottle(error: unknown): boolean {
  return (
    error instanceof Error &&
    ['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded'].includes(
      error.name,
    )
  );
}

/** Lets at most `limit` tasks run at once across all its callers; the others wait their turn. */
function createGate(limit: number) {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the place straight to the next waiter, so no newcomer can slip in between.
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
