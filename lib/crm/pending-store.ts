import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '#lib/concurrency/map-limit.ts';
import { decodeCursor, encodeCursor } from '#lib/table/cursor.ts';
import {
  INDEX_KEY_ATTRIBUTES,
  PENDING_PARTITION,
  PENDING_SK,
  pendingDueBound,
  pendingKey,
  pendingSortKey,
  STATUS_INDEX,
} from '#lib/table/keys.ts';

/** A CRM-created user Gong did not know yet, waiting for its next re-check. */
export interface PendingUser {
  email: string;
  /** Which door first saw them (crm, salesforce). */
  source: string;
  firstSeenAt: string;
  dueAt: string;
  giveUpAt: string;
  attempts: number;
}

export interface PendingPage {
  items: PendingUser[];
  /** Where the next page starts; absent on the last page. */
  cursor?: string;
}

export interface PendingStore {
  /** Starts re-checks for users not pending yet; a user already pending keeps their schedule. */
  add(emails: string[], options: { source: string; at: Date }): Promise<void>;
  /** Pending users due at or before `asOf`, earliest first. */
  listDue(asOf: Date, page: { limit: number; cursor?: string }): Promise<PendingPage>;
  /** Moves a pending user's next re-check to `dueAt`. */
  reschedule(user: PendingUser, dueAt: Date): Promise<void>;
  remove(email: string): Promise<void>;
}

/** Re-check schedule (README "CRM webhook"): 15 minutes after creation, then hourly, for up to 3 days. */
export const PENDING_SCHEDULE = {
  firstAfterMs: 15 * 60_000,
  everyMs: 60 * 60_000,
  giveUpAfterMs: 3 * 86_400_000,
} as const;

/** TTL safety net: a user the re-check function never reached still leaves the table a day after giving up. */
const TTL_GRACE_SECONDS = 86_400;

/** Pending re-checks, kept in the product's one table and listed through GSI gsi1. */
export function createPendingStore(options: {
  db: DynamoDBDocumentClient;
  table: string;
  schedule?: typeof PENDING_SCHEDULE;
}): PendingStore {
  const { db, table } = options;
  const schedule = options.schedule ?? PENDING_SCHEDULE;

  return {
    async add(emails, { source, at }) {
      const firstSeenAt = at.toISOString();
      const dueAt = new Date(at.getTime() + schedule.firstAfterMs).toISOString();
      const giveUpAt = new Date(at.getTime() + schedule.giveUpAfterMs);
      await mapLimit(emails, 16, async (email) => {
        try {
          await db.send(
            new PutCommand({
              TableName: table,
              Item: {
                ...pendingKey(email),
                gsi1pk: PENDING_PARTITION,
                gsi1sk: pendingSortKey(dueAt, email),
                email,
                source,
                firstSeenAt,
                dueAt,
                giveUpAt: giveUpAt.toISOString(),
                attempts: 0,
                expiresAt: Math.ceil(giveUpAt.getTime() / 1000) + TTL_GRACE_SECONDS,
              },
              // A second creation event must not push back a schedule already running.
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        } catch (error: unknown) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      });
    },

    async listDue(asOf, { limit, cursor }) {
      const out = await db.send(
        new QueryCommand({
          TableName: table,
          IndexName: STATUS_INDEX,
          KeyConditionExpression: 'gsi1pk = :pending AND gsi1sk < :bound',
          ExpressionAttributeValues: {
            ':pending': PENDING_PARTITION,
            ':bound': pendingDueBound(asOf.toISOString()),
          },
          Limit: limit,
          ...(cursor === undefined
            ? {}
            : {
                ExclusiveStartKey: decodeCursor(cursor, {
                  attributes: INDEX_KEY_ATTRIBUTES,
                  belongs: (key) => key.gsi1pk === PENDING_PARTITION && key.sk === PENDING_SK,
                }),
              }),
        }),
      );
      const items = (out.Items ?? []).map(toPendingUser);
      return out.LastEvaluatedKey ? { items, cursor: encodeCursor(out.LastEvaluatedKey) } : { items };
    },

    async reschedule(user, dueAt) {
      const due = dueAt.toISOString();
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: pendingKey(user.email),
            UpdateExpression: 'SET dueAt = :due, gsi1sk = :sk, attempts = :attempts',
            // Never resurrect a user another run already removed.
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: {
              ':due': due,
              ':sk': pendingSortKey(due, user.email),
              ':attempts': user.attempts + 1,
            },
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    },

    async remove(email) {
      await db.send(new DeleteCommand({ TableName: table, Key: pendingKey(email) }));
    },
  };
}

function toPendingUser(item: Record<string, unknown>): PendingUser {
  return {
    email: String(item.email),
    source: String(item.source),
    firstSeenAt: String(item.firstSeenAt),
    dueAt: String(item.dueAt),
    giveUpAt: String(item.giveUpAt),
    attempts: Number(item.attempts ?? 0),
  };
}
