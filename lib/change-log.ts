import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { UserResult, UserStatus } from './report.ts';

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

/** Reads change events back, oldest first. */
export interface ChangeLog {
  /** Every event with `after` < at <= `upTo` (ISO timestamps). */
  list(range: { after: string; upTo: string }): Promise<ChangeEvent[]>;
}

// All change events share one GSI partition: they are rare (a few a day), and one Query then
// reads a time window of them in order.
const CHANGES = 'CHANGES';
// Sorts after every email character, so `<at>#\uffff` bounds all events at `at`.
const HIGH = '\uffff';

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
    pk: `CHANGE#${result.email}`,
    sk: `${result.checkedAt}#${meta.requestId}`,
    gsi1pk: CHANGES,
    gsi1sk: `${result.checkedAt}#${result.email}`,
    expiresAt: meta.expiresAt,
  };
}

/** Change events in the one table, listed by time through the status index (gsi1). */
export function createChangeLog(options: { db: DynamoDBDocumentClient; table: string }): ChangeLog {
  const { db, table } = options;
  return {
    async list({ after, upTo }) {
      const events: ChangeEvent[] = [];
      // DynamoDB refuses a BETWEEN whose bounds are reversed.
      if (after >= upTo) return events;
      let startKey: Record<string, unknown> | undefined;
      do {
        const out = await db.send(
          new QueryCommand({
            TableName: table,
            IndexName: 'gsi1',
            KeyConditionExpression: 'gsi1pk = :changes AND gsi1sk BETWEEN :after AND :upTo',
            ExpressionAttributeValues: {
              ':changes': CHANGES,
              ':after': `${after}#${HIGH}`,
              ':upTo': `${upTo}#${HIGH}`,
            },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        for (const item of out.Items ?? []) events.push(toEvent(item));
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return events;
    },
  };
}

/**
 * Who broke and who was fixed over a run of events: a user's first status in the window against
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
