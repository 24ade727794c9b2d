import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { UserResult, UserStatus } from '#lib/check/report.ts';
import { mapLimit } from '#lib/map-limit.ts';
import { CHANGES_PENDING, changeKey, changePendingSortKey, STATUS_INDEX } from '#lib/table/keys.ts';

/** A user who broke (OK → INVALID or NOT_IN_GONG) or was fixed (back to OK), as one check saw it. */
export interface ChangeEvent {
  email: string;
  kind: 'broke' | 'fixed';
  from: UserStatus;
  to: UserStatus;
  /** When Gong answered the check that saw the change. */
  at: string;
  userFacingError?: string;
  fixUrl?: string;
  helpUrl?: string;
  source: string;
  requestId: string;
}

/** Where a change event is stored: what marking it posted needs. */
export interface ChangeKey {
  pk: string;
  sk: string;
}

/**
 * The change events as an outbox: every event is written pending and stays so until a digest that
 * read it has been posted. Nothing depends on when an event is written relative to a digest, so an
 * event stored late (its check's Gong answer older than the digest) simply goes into the next one.
 */
export interface ChangeLog {
  /** Every pending event, oldest first, with its key. */
  listPending(): Promise<{ key: ChangeKey; event: ChangeEvent }[]>;
  /** Takes exactly these events out of the pending listing (once their digest is posted). */
  markPosted(keys: ChangeKey[], posted: { sweepId: string; at: string }): Promise<void>;
}

/** UpdateItems in flight while marking a digest's events posted. */
const MARK_CONCURRENCY = 8;

const EVENT_FIELDS = [
  'email',
  'kind',
  'from',
  'to',
  'at',
  'userFacingError',
  'fixUrl',
  'helpUrl',
  'source',
  'requestId',
] as const;

/**
 * The change-event item for a result, or undefined when the user neither broke nor was fixed.
 * A first result has nothing to compare with, and INVALID ↔ NOT_IN_GONG is still broken: no event.
 */
export function changeEventItem(
  result: UserResult,
  previous: { status: UserStatus } | undefined,
  meta: { source: string; requestId: string; expiresAt: number },
): Record<string, unknown> | undefined {
  if (!previous || (previous.status === 'OK') === (result.status === 'OK')) return undefined;
  const event: ChangeEvent = {
    email: result.email,
    kind: result.status === 'OK' ? 'fixed' : 'broke',
    from: previous.status,
    to: result.status,
    at: result.checkedAt,
    ...(result.userFacingError === undefined ? {} : { userFacingError: result.userFacingError }),
    ...(result.fixUrl === undefined ? {} : { fixUrl: result.fixUrl }),
    ...(result.helpUrl === undefined ? {} : { helpUrl: result.helpUrl }),
    source: meta.source,
    requestId: meta.requestId,
  };
  return {
    ...event,
    ...changeKey(result.email, result.checkedAt, meta.requestId),
    gsi1pk: CHANGES_PENDING,
    gsi1sk: changePendingSortKey(result.checkedAt, result.email),
    expiresAt: meta.expiresAt,
  };
}

/** Change events in the one table, pending ones listed through the status index (gsi1). */
export function createChangeLog(options: { db: DynamoDBDocumentClient; table: string }): ChangeLog {
  const { db, table } = options;
  return {
    async listPending() {
      const pending: { key: ChangeKey; event: ChangeEvent }[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await db.send(
          new QueryCommand({
            TableName: table,
            IndexName: STATUS_INDEX,
            KeyConditionExpression: 'gsi1pk = :pending',
            ExpressionAttributeValues: { ':pending': CHANGES_PENDING },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of out.Items ?? []) {
          pending.push({ key: { pk: String(item.pk), sk: String(item.sk) }, event: toEvent(item) });
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return pending;
    },

    async markPosted(keys, posted) {
      await mapLimit(keys, MARK_CONCURRENCY, async (key) => {
        try {
          await db.send(
            new UpdateCommand({
              TableName: table,
              Key: { pk: key.pk, sk: key.sk },
              // Out of the index entirely: the pending partition holds only what is still to post.
              UpdateExpression: 'SET postedAt = :at, postedBy = :sweep REMOVE gsi1pk, gsi1sk',
              // Never re-creates an event that expired meanwhile, nor touches one posted already.
              ConditionExpression: 'gsi1pk = :pending',
              ExpressionAttributeValues: {
                ':at': posted.at,
                ':sweep': posted.sweepId,
                ':pending': CHANGES_PENDING,
              },
            }),
          );
        } catch (error: unknown) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      });
    },
  };
}

/**
 * Who broke and who was fixed over a run of events: a user's first status in them against
 * their last. Someone who broke and was fixed again in between has no net change and is left out.
 */
export function netChanges(events: ChangeEvent[]): { broke: ChangeEvent[]; fixed: ChangeEvent[] } {
  const byUser = new Map<string, { first: ChangeEvent; last: ChangeEvent }>();
  for (const event of [...events].sort((a, b) => a.at.localeCompare(b.at))) {
    const seen = byUser.get(event.email);
    byUser.set(event.email, { first: seen?.first ?? event, last: event });
  }
  const broke: ChangeEvent[] = [];
  const fixed: ChangeEvent[] = [];
  for (const { first, last } of byUser.values()) {
    const wasOk = first.from === 'OK';
    const isOk = last.to === 'OK';
    if (wasOk && !isOk) broke.push(last);
    if (!wasOk && isOk) fixed.push(last);
  }
  const byEmail = (a: ChangeEvent, b: ChangeEvent) => a.email.localeCompare(b.email);
  return { broke: broke.sort(byEmail), fixed: fixed.sort(byEmail) };
}

function toEvent(item: Record<string, unknown>): ChangeEvent {
  const out: Record<string, unknown> = {};
  for (const field of EVENT_FIELDS) if (item[field] !== undefined) out[field] = item[field];
  return out as unknown as ChangeEvent;
}
