import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { UserResult, UserStatus } from '#lib/check/report.ts';
import { mapLimit } from '#lib/concurrency/map-limit.ts';
import { CHANGES_PENDING, changeEventId, latestKey, OUTBOX_INDEX } from '#lib/table/keys.ts';

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

/** A change event as its user's outbox holds it. */
export interface PendingChange extends ChangeEvent {
  /** Unique within the outbox: `<at>#<requestId>`. */
  id: string;
}

/** The pending changes of one user, as a digest read them: what clearing them exactly needs. */
export interface PendingOutbox {
  email: string;
  events: PendingChange[];
}

/**
 * The change outbox: every change event lives on the latest item it describes, written by the same
 * conditional write that moved the user's status, and stays there until a digest that named it has
 * been posted. An event can therefore not exist without its state, nor the state without its event.
 */
export interface ChangeLog {
  /** Every user with pending changes, oldest change first. */
  listPending(): Promise<PendingOutbox[]>;
  /** Takes exactly these events out of their outboxes (once their digest is posted); idempotent. */
  clearPosted(outboxes: { email: string; ids: string[] }[]): Promise<void>;
}

/** UpdateItems in flight while clearing a digest's events. */
const CLEAR_CONCURRENCY = 8;
/** Attempts at clearing one outbox against concurrent checks of the same user. */
const CLEAR_ATTEMPTS = 10;
/**
 * Most events one outbox keeps: a digest needs only the first `from` and the last `to` of a user's
 * run of changes, so when a user flaps more than this between digests the middle ones are dropped
 * (the item must stay far below DynamoDB's 400 KB).
 */
export const OUTBOX_LIMIT = 20;

/**
 * The change event a result makes against the status before it, or undefined when the user neither
 * broke nor was fixed. A first result has nothing to compare with, and INVALID ↔ NOT_IN_GONG is still
 * broken: no event.
 */
export function changeEventOf(
  result: Pick<UserResult, 'email' | 'status' | 'checkedAt' | 'userFacingError' | 'fixUrl' | 'helpUrl'>,
  previous: { status: UserStatus } | undefined,
  meta: { source: string; requestId: string },
): PendingChange | undefined {
  if (!previous || (previous.status === 'OK') === (result.status === 'OK')) return undefined;
  return {
    id: changeEventId(result.checkedAt, meta.requestId),
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
}

/**
 * A latest item with its TTL as README › Storage says: only a NOT_IN_GONG user whose outbox is empty
 * expires, the retention after someone last asked about them (`askedAt`); a pending change is never
 * left to TTL, which would lose it.
 */
export function withExpiry(item: Record<string, unknown>, retentionSeconds: number): Record<string, unknown> {
  const { expiresAt: _expiresAt, ...rest } = item;
  const outbox = item.outbox as unknown[] | undefined;
  if (item.status !== 'NOT_IN_GONG' || (outbox !== undefined && outbox.length > 0)) return rest;
  const askedAt = Date.parse(String(item.askedAt ?? item.checkedAt));
  return { ...rest, expiresAt: Math.floor(askedAt / 1000) + retentionSeconds };
}

/** An outbox with one more event, kept within OUTBOX_LIMIT by dropping from the middle. */
export function appendToOutbox(outbox: readonly PendingChange[], event: PendingChange): PendingChange[] {
  const next = [...outbox, event];
  while (next.length > OUTBOX_LIMIT) next.splice(1, 1);
  return next;
}

/** Change events in the latest items' outboxes, listed through the sparse outbox index (gsi2). */
export function createChangeLog(options: {
  db: DynamoDBDocumentClient;
  table: string;
  retentionDays?: number;
}): ChangeLog {
  const { db, table } = options;
  const retentionSeconds = (options.retentionDays ?? 400) * 86_400;

  async function clearOne(email: string, ids: ReadonlySet<string>): Promise<void> {
    for (let attempt = 1; attempt <= CLEAR_ATTEMPTS; attempt++) {
      const out = await db.send(
        new GetCommand({ TableName: table, Key: latestKey(email), ConsistentRead: true }),
      );
      const item = out.Item;
      const outbox = (item?.outbox ?? []) as PendingChange[];
      if (!item || !outbox.some((event) => ids.has(event.id))) return;
      const left = outbox.filter((event) => !ids.has(event.id));
      const { outbox: _outbox, gsi2pk: _pk, gsi2sk: _sk, ...rest } = item;
      const version = Number(item.version ?? 0);
      const first = left[0];
      const next: Record<string, unknown> = first
        ? { ...rest, outbox: left, gsi2pk: CHANGES_PENDING, gsi2sk: `${first.at}#${email}` }
        : withExpiry(rest, retentionSeconds);
      next.version = version + 1;
      try {
        await db.send(
          new PutCommand({
            TableName: table,
            Item: next,
            // The version read: a check that wrote meanwhile makes us read again, never lose its event.
            ConditionExpression: item.version === undefined ? 'attribute_not_exists(#v)' : '#v = :v',
            ExpressionAttributeNames: { '#v': 'version' },
            ...(item.version === undefined ? {} : { ExpressionAttributeValues: { ':v': version } }),
          }),
        );
        return;
      } catch (error: unknown) {
        // Also what a retried write that was applied sees: the next read finds the ids gone.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    throw new Error(
      `Could not clear ${ids.size} posted changes of one user after ${CLEAR_ATTEMPTS} attempts`,
    );
  }

  return {
    async listPending() {
      const pending: PendingOutbox[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await db.send(
          new QueryCommand({
            TableName: table,
            IndexName: OUTBOX_INDEX,
            KeyConditionExpression: 'gsi2pk = :pending',
            ExpressionAttributeValues: { ':pending': CHANGES_PENDING },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of out.Items ?? []) {
          const events = ((item.outbox ?? []) as Record<string, unknown>[]).map(toEvent);
          if (events.length > 0) pending.push({ email: String(item.email), events });
        }
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return pending;
    },

    async clearPosted(outboxes) {
      await mapLimit(outboxes, CLEAR_CONCURRENCY, (outbox) => clearOne(outbox.email, new Set(outbox.ids)));
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

const EVENT_FIELDS = [
  'id',
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

function toEvent(item: Record<string, unknown>): PendingChange {
  const out: Record<string, unknown> = {};
  for (const field of EVENT_FIELDS) if (item[field] !== undefined) out[field] = item[field];
  return out as unknown as PendingChange;
}
