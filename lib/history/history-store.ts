import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { UserResult, UserStatus } from '#lib/check/report.ts';
import { chunksOf } from '#lib/concurrency/chunks.ts';
import { createGate } from '#lib/concurrency/gate.ts';
import { appendToOutbox, changeEventOf, type PendingChange, withExpiry } from '#lib/history/change-log.ts';
import { decodeCursor, encodeCursor } from '#lib/table/cursor.ts';
import {
  CHANGES_PENDING,
  changePendingSortKey,
  HISTORY_PREFIX,
  historyKey,
  INDEX_KEY_ATTRIBUTES,
  LATEST,
  latestKey,
  SEEN,
  STATUS_INDEX,
  seenKey,
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

/**
 * What a check read of a user as it asked Gong: the latest item's result (its `checkedAt` is the result it
 * holds, not a later check that left it as it was) and the version a write of it must name.
 */
export interface KnownLatest extends LatestResult {
  version?: number;
  askedAt?: string;
  /** Changes not yet told: a write computed from this read keeps them. */
  outbox?: PendingChange[];
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface HistoryStore {
  /** The newest check of a user (a check that changed nothing leaves the latest item and only updates `checkedAt`). */
  getLatest(email: string): Promise<LatestResult | undefined>;
  getLatestMany(emails: string[]): Promise<Map<string, KnownLatest>>;
  /** When each user was last checked, whether or not that check changed their latest item. */
  lastCheckedMany(emails: string[]): Promise<Map<string, string>>;
  /**
   * Writes a history item per result and moves each user's latest item to the last answer, with the
   * change event (broke/fixed) in the same conditional write; returns the emails it could not store.
   * `previous` is what `getLatestMany` read for these users: a user missing from it was absent.
   */
  record(
    results: UserResult[],
    meta: {
      source: string;
      requestId: string;
      previous: Map<string, KnownLatest | LatestResult>;
      /**
       * False when `previous` came back after Gong answered some of these results (the read runs
       * beside the call): a user it found absent may then have been confirmed by a newer quiet
       * check just before their item expired, so their create looks at their history after all.
       */
      readBeforeAnswers?: boolean;
    },
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

/** The door whose checks do not count as someone asking about a user (README › Storage: expiry). */
export const SWEEP_SOURCE = 'sweep';

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
/** What a check needs of each user's latest item to compare and store its answer (getLatestMany). */
const KNOWN_FIELDS = [...STORED_FIELDS, 'since', 'version', 'askedAt', 'outbox'] as const;
/** The fields whose change makes a check rewrite the latest item (beyond a status change). */
const SHOWN_FIELDS = ['exists', 'valid', 'status', 'userFacingError', 'fixUrl', 'helpUrl'] as const;
/** Fields of a check that left the latest item as it was, kept on the last-seen item. */
const SEEN_FIELDS = ['checkedAt', 'gongRequestId', 'source', 'requestId'] as const;
/** Someone asking again refreshes `askedAt` (and so the NOT_IN_GONG expiry) at most this often. */
const ASKED_REFRESH_MS = 86_400_000;
/** BatchGetItem requests in flight for the whole store. */
const READ_CONCURRENCY = 4;
/** Rounds of "re-read and recompute" one result gets against concurrent writers of the same user. */
const APPLY_ATTEMPTS = 10;

/** A latest item as the store reasons about it. */
interface LatestState {
  result: StoredResult;
  since: string;
  version: number;
  /** False for an item written before versions: its condition is that it has none. */
  versioned: boolean;
  askedAt: string;
  outbox: PendingChange[];
  /** The result this state was written for (`<checkedAt>#<requestId>`): recognises our own write after a lost answer. */
  writeId: string;
}

/**
 * DynamoDB-backed history: one item per check, one latest item per user carrying its own pending
 * change events (the outbox), all in the one table. No transactions: every latest write is one
 * conditional PutItem naming the version it was computed from.
 */
export function createHistoryStore(options: HistoryStoreOptions): HistoryStore {
  const { db, table } = options;
  const retentionSeconds = (options.retentionDays ?? 400) * 86_400;
  const maxAttempts = options.maxAttempts ?? 8;
  // One bound on writes in flight for the whole store, however many batches store at once. Eight
  // keep one CPU busy (a request costs the SDK about 0.7 ms of it) without a backlog of answers
  // that would hold the event loop, and with it the Gong pacer's timers, for tens of milliseconds.
  const writeGate = createGate(options.maxConcurrentWrites ?? 8);
  const readGate = createGate(READ_CONCURRENCY);

  /** BatchWriteItem with its leftovers retried; adds the email of every item it could not write to `failed`. */
  async function writeBatches(items: Record<string, unknown>[], failed: Set<string>): Promise<void> {
    await Promise.all(
      chunksOf(items, 25).map(async (chunk) => {
        let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
        try {
          for (let attempt = 1; pending.length > 0; attempt++) {
            if (attempt > maxAttempts) {
              for (const request of pending) failed.add(String(request.PutRequest.Item.email));
              return;
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
        } catch (error: unknown) {
          for (const request of pending) failed.add(String(request.PutRequest.Item.email));
          options.onWriteError?.(error);
        }
      }),
    );
  }

  async function batchGet(
    keys: Record<string, unknown>[],
    consistent: boolean,
    attributes?: readonly string[],
  ) {
    const projection = attributes && {
      ProjectionExpression: attributes.map((_, i) => `#a${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(attributes.map((name, i) => [`#a${i}`, name])),
    };
    // One bound on reads in flight for the whole store, first come first served: the batches of a
    // bulk check and their confirming reads share it, and the earliest asked is read first.
    const pages = await Promise.all(
      chunksOf(keys, 100).map((chunk) =>
        readGate(async () => {
          const items: Record<string, unknown>[] = [];
          let left = chunk;
          for (let attempt = 1; left.length > 0; attempt++) {
            if (attempt > maxAttempts)
              throw new Error(`DynamoDB left ${left.length} keys unread in ${table}`);
            if (attempt > 1) await sleep(jitteredBackoff(attempt));
            const out = await db.send(
              new BatchGetCommand({
                RequestItems: {
                  [table]: { Keys: left, ...projection, ...(consistent ? { ConsistentRead: true } : {}) },
                },
              }),
            );
            items.push(...(out.Responses?.[table] ?? []));
            left = out.UnprocessedKeys?.[table]?.Keys ?? [];
          }
          return items;
        }),
      ),
    );
    return pages.flat();
  }

  function latestItem(state: LatestState): Record<string, unknown> {
    const { email, status } = state.result;
    const first = state.outbox[0];
    return withExpiry(
      {
        ...state.result,
        ...latestKey(email),
        since: state.since,
        gsi1pk: statusPartition(status),
        gsi1sk: statusSortKey(state.since, email),
        version: state.version,
        askedAt: state.askedAt,
        writeId: state.writeId,
        ...(first
          ? { outbox: state.outbox, gsi2pk: CHANGES_PENDING, gsi2sk: changePendingSortKey(first.at, email) }
          : {}),
      },
      retentionSeconds,
    );
  }

  async function readState(email: string): Promise<LatestState | undefined> {
    const out = await db.send(
      new GetCommand({ TableName: table, Key: latestKey(email), ConsistentRead: true }),
    );
    return out.Item ? stateOf(out.Item) : undefined;
  }

  /**
   * Makes `result` the latest if it is the last answer so far, recomputing from a fresh read on every
   * conflict; returns the state written, or undefined when a later answer holds the item already.
   */
  async function applyOnce(
    result: StoredResult,
    known: LatestState | undefined,
    readFirst: boolean,
  ): Promise<{ state: LatestState; created: boolean } | undefined> {
    let current = readFirst ? await readState(result.email) : known;
    for (let attempt = 1; attempt <= APPLY_ATTEMPTS; attempt++) {
      const next = nextState(current, result);
      if (!next) return undefined;
      try {
        await writeGate(() =>
          db.send(
            new PutCommand({
              TableName: table,
              Item: latestItem(next),
              ...(current === undefined
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : current.versioned
                  ? {
                      ConditionExpression: '#v = :v',
                      ExpressionAttributeNames: { '#v': 'version' },
                      ExpressionAttributeValues: { ':v': current.version },
                    }
                  : {
                      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#v)',
                      ExpressionAttributeNames: { '#v': 'version' },
                    }),
            }),
          ),
        );
        return { state: next, created: current === undefined };
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      current = await readState(result.email);
      // A retried write whose first try was applied (its answer lost) fails its own condition: the
      // item then names this very result, and the change it carried is stored.
      if (current?.writeId === next.writeId) return { state: current, created: false };
    }
    throw new Error(`The latest item of one user kept changing during ${APPLY_ATTEMPTS} attempts`);
  }

  /**
   * Applies a result, then makes sure no later answer was left behind: a check that left the latest
   * item as it was (history only) may have been verified before this write landed, so the newest
   * history item wins if it is newer than what was written.
   */
  async function apply(
    result: StoredResult,
    known: LatestState | undefined,
    readFirst: boolean,
    absentWhenRead: boolean,
  ) {
    const first = await applyOnce(result, known, readFirst);
    // A user the check's consistent read found absent, created by this write: no quiet check can
    // have confirmed an item older than this answer (it would have had to exist in between, and a
    // fresh item cannot expire within seconds), so there is no newer history to look for. This is
    // what keeps a first bulk check at one BatchWrite share and one PutItem per new user.
    if (absentWhenRead && first?.created) return;
    let written = first?.state;
    for (let round = 0; written && round < APPLY_ATTEMPTS; round++) {
      const newest = await newestHistory(result.email);
      if (!newest || newest.checkedAt <= written.result.checkedAt) return;
      written = (await applyOnce(newest, written, false))?.state;
    }
  }

  async function newestHistory(email: string): Promise<StoredResult | undefined> {
    const out = await db.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :check)',
        ExpressionAttributeValues: { ':pk': userPartition(email), ':check': HISTORY_PREFIX },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    return item ? fromItem(item) : undefined;
  }

  return {
    async getLatest(email) {
      const items = await batchGet([latestKey(email), seenKey(email)], true);
      const latest = items.find((item) => item.sk === LATEST);
      if (!latest) return undefined;
      const seen = items.find((item) => item.sk === SEEN);
      const shown = toLatest(latest);
      if (!seen || String(seen.checkedAt) <= shown.checkedAt) return shown;
      for (const field of SEEN_FIELDS)
        if (seen[field] !== undefined) Object.assign(shown, { [field]: seen[field] });
      return shown;
    },

    async getLatestMany(emails) {
      const found = new Map<string, KnownLatest>();
      // Consistent: "absent" must mean absent when asked, for a create to skip its history look-up.
      for (const item of await batchGet(
        emails.map((email) => latestKey(email)),
        true,
        KNOWN_FIELDS,
      )) {
        const latest: KnownLatest = toLatest(item);
        if (typeof item.version === 'number') latest.version = item.version;
        if (typeof item.askedAt === 'string') latest.askedAt = item.askedAt;
        if (Array.isArray(item.outbox)) latest.outbox = item.outbox as PendingChange[];
        found.set(latest.email, latest);
      }
      return found;
    },

    async lastCheckedMany(emails) {
      const keys = emails.flatMap((email) => [latestKey(email), seenKey(email)]);
      const last = new Map<string, string>();
      for (const item of await batchGet(keys, false)) {
        const email = String(item.email);
        const at = String(item.checkedAt);
        if (at > (last.get(email) ?? '')) last.set(email, at);
      }
      return last;
    },

    async record(results, { source, requestId, previous, readBeforeAnswers = true }) {
      const failed = new Set<string>();
      const expiresAt = Math.floor(Date.now() / 1000) + retentionSeconds;
      const stored = results.map((result) => toStored(result, source, requestId));
      // Quiet: same as the latest item the check read, and nothing to refresh. Such a user needs no
      // round trip of its own: history and last-seen go in batches, a batched read confirms the item.
      const quiet = new Set(
        stored.filter((result) => isQuiet(previous.get(result.email), result)).map((result) => result.email),
      );
      const items: Record<string, unknown>[] = [];
      for (const result of stored) {
        items.push({ ...result, ...historyKey(result.email, result.checkedAt, requestId), expiresAt });
        if (quiet.has(result.email)) {
          const seen: Record<string, unknown> = { email: result.email, ...seenKey(result.email), expiresAt };
          for (const field of SEEN_FIELDS) seen[field] = result[field];
          items.push(seen);
        }
      }
      // History first: a concurrent writer's check of the newest history item must be able to see it.
      await writeBatches(items, failed);
      const left = stored.filter((result) => !failed.has(result.email));

      const toApply: {
        result: StoredResult;
        known: LatestState | undefined;
        readFirst: boolean;
        absentWhenRead: boolean;
      }[] = [];
      const quietLeft = left.filter((result) => quiet.has(result.email));
      if (quietLeft.length > 0) {
        try {
          const fresh = new Map(
            (
              await batchGet(
                quietLeft.map((result) => latestKey(result.email)),
                true,
                ['email', 'version'],
              )
            ).map((item) => [String(item.email), item]),
          );
          for (const result of quietLeft) {
            const item = fresh.get(result.email);
            // Someone wrote since the check read it: recompute against what is there now (read in
            // full: the confirming read asked only for versions).
            const read = previous.get(result.email) as KnownLatest | undefined;
            if (item === undefined || item.version !== read?.version) {
              toApply.push({
                result,
                known: undefined,
                readFirst: item !== undefined,
                absentWhenRead: false,
              });
            }
          }
        } catch (error: unknown) {
          for (const result of quietLeft) failed.add(result.email);
          options.onWriteError?.(error);
        }
      }
      for (const result of left) {
        if (quiet.has(result.email)) continue;
        const known = previous.get(result.email);
        const versioned = known !== undefined && 'version' in known && typeof known.version === 'number';
        toApply.push({
          result,
          known: versioned ? stateOfKnown(known as KnownLatest) : undefined,
          // Without a version (or with nothing read) the first attempt would only fail its condition.
          readFirst: known !== undefined && !versioned,
          absentWhenRead: known === undefined && readBeforeAnswers,
        });
      }
      await Promise.all(
        toApply.map(({ result, known, readFirst, absentWhenRead }) =>
          apply(result, known, readFirst, absentWhenRead).catch((error: unknown) => {
            failed.add(result.email);
            options.onWriteError?.(error);
          }),
        ),
      );
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

/**
 * The latest item after `result`, or undefined when `current` holds a later answer already: the last
 * answer wins, and a change event is added exactly when the status crossed between OK and broken.
 */
function nextState(current: LatestState | undefined, result: StoredResult): LatestState | undefined {
  if (current && result.checkedAt <= current.result.checkedAt) return undefined;
  const event = changeEventOf(result, current?.result, result);
  const asked = result.source !== SWEEP_SOURCE;
  return {
    result,
    since: current && current.result.status === result.status ? current.since : result.checkedAt,
    version: (current?.version ?? 0) + 1,
    versioned: true,
    askedAt: asked ? result.checkedAt : (current?.askedAt ?? result.checkedAt),
    outbox: event ? appendToOutbox(current?.outbox ?? [], event) : (current?.outbox ?? []),
    writeId: `${result.checkedAt}#${result.requestId}`,
  };
}

/** True when writing `result` would change nothing a reader sees of the latest item the check read. */
function isQuiet(known: KnownLatest | LatestResult | undefined, result: StoredResult): boolean {
  if (!known || !('version' in known) || typeof known.version !== 'number') return false;
  if (result.checkedAt <= known.checkedAt) return false;
  if (SHOWN_FIELDS.some((field) => known[field] !== result[field])) return false;
  if (result.source === SWEEP_SOURCE) return true;
  return Date.parse(result.checkedAt) - Date.parse(known.askedAt ?? '') < ASKED_REFRESH_MS;
}

function stateOf(item: Record<string, unknown>): LatestState {
  return {
    result: fromItem(item),
    since: String(item.since ?? item.checkedAt),
    version: typeof item.version === 'number' ? item.version : 0,
    versioned: typeof item.version === 'number',
    askedAt: String(item.askedAt ?? item.checkedAt),
    outbox: (item.outbox ?? []) as PendingChange[],
    writeId: String(item.writeId ?? ''),
  };
}

/**
 * A state from what the check read, outbox included: the write names the version read, so the
 * changes not yet told that it carries on are exactly those of that version.
 */
function stateOfKnown(known: KnownLatest): LatestState {
  const { since, version, askedAt, outbox, ...rest } = known;
  return {
    result: fromItem(rest),
    since,
    version: version ?? 0,
    versioned: true,
    askedAt: askedAt ?? known.checkedAt,
    outbox: outbox ?? [],
    writeId: '',
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
