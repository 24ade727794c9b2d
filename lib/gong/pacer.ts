import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { gongBudgetKey, gongPauseKey, rateSlotPartition, rateSlotSortKey } from '#lib/table/keys.ts';

/** Thrown when no call slot can start before the caller's deadline. */
export class SlotUnavailableError extends Error {
  override name = 'SlotUnavailableError';
  readonly waitMs: number;
  constructor(waitMs: number) {
    super(`no Gong call slot before the deadline (next one in ${Math.ceil(waitMs / 1000)} s)`);
    this.waitMs = waitMs;
  }
}

/** Who a Gong call is for: a person waiting for the answer, or background work (sweep, discovery, re-checks). */
export type CallPriority = 'person' | 'background';

/** Background work stops at this share of the daily budget and leaves the rest to people (README › Gong's limits). */
export const BACKGROUND_SHARE = 0.8;

/** Thrown when the day's Gong call budget (or, for background work, its share of it) is spent. */
export class BudgetSpentError extends Error {
  override name = 'BudgetSpentError';
  /** Epoch ms of the next UTC midnight, when the budget renews. */
  readonly renewsAt: number;
  readonly priority: CallPriority;
  constructor(options: { priority: CallPriority; budget: number; used: number; renewsAt: number }) {
    const { priority, budget, used, renewsAt } = options;
    const seconds = Math.ceil((renewsAt - Date.now()) / 1000);
    const renews = `it renews at 00:00 UTC (in ${seconds} s)`;
    super(
      priority === 'background'
        ? `Background Gong calls stopped at ${Math.round(BACKGROUND_SHARE * 100)}% of today's budget (${used} of GONG_DAILY_BUDGET=${budget}); the rest is kept for people; ${renews}`
        : `Today's Gong call budget is spent (${used} of GONG_DAILY_BUDGET=${budget}); ${renews}`,
    );
    this.priority = priority;
    this.renewsAt = renewsAt;
  }
}

/** Hands out call start times, spaced evenly for the whole deployment and counted against the day's budget. */
export interface CallPacer {
  /** Resolves when this caller may start its call (epoch ms). Throws SlotUnavailableError or BudgetSpentError. */
  acquire(deadline: number, priority?: CallPriority): Promise<number>;
  /** Gong answered 429: no container of the deployment calls before `epochMs`. */
  pauseUntil(epochMs: number): Promise<void>;
}

interface PacerOptions {
  db: DynamoDBDocumentClient;
  table: string;
  /** Calls a second for the whole deployment (GONG_MAX_RPS). */
  rps: number;
  /** Calls a UTC day for the whole deployment (GONG_DAILY_BUDGET); unset counts nothing. */
  dailyBudget?: number;
  /** Partition of the slots, pause and budget, so two Gong companies would not share them. */
  key?: string;
  /** Told the share of the day's budget used (percent) after each reservation. */
  onBudgetUsed?: (percent: number) => void;
  /** Told when the pause could not be written for the other containers. */
  onPauseWriteError?: (error: unknown) => void;
  now?: () => number;
}

/** The next UTC midnight after `at` (epoch ms). */
export function nextUtcMidnight(at: number): number {
  const day = new Date(at);
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1);
}

/**
 * Paces Gong calls across every container of the deployment (README › Staying under Gong's limits).
 *
 * Time is cut into slots of 1/rps on one global grid, grouped into blocks of about a second; a block
 * belongs wholly to whichever container first writes its item (a conditional put), claimed a block
 * ahead while callers wait. Within its blocks a container starts a call no earlier than its slot and
 * no earlier than `interval − tolerance` after its previous call, deciding at the moment it wakes:
 * timers that run late (a busy CPU) cost that call its slot, they never fire two calls together.
 * A call that would start past its block's last slot, when the next block is not ours, waits for a
 * block that is. So two calls of the deployment are never less than `interval − tolerance` apart.
 *
 * A 429 writes `pauseUntil` to the table, and every container reads it before its calls. The day's
 * budget is one counter per UTC day, reserved a block of calls at a time with a conditional ADD.
 */
export function createCallPacer(options: PacerOptions): CallPacer {
  const { db, table, rps } = options;
  const now = options.now ?? Date.now;
  const key = options.key ?? 'gong';
  const pk = rateSlotPartition(key);
  const intervalMs = 1000 / rps;
  // Lateness a call may still have and keep its slot; beyond it the slot is given up.
  const toleranceMs = intervalMs * 0.1;
  const slotsPerBlock = Math.max(1, Math.floor(rps));
  const blockMs = slotsPerBlock * intervalMs;
  // How recent a read of the shared pause must be when a call starts: a 429 elsewhere reaches us within this.
  const pauseFreshMs = Math.min(100, intervalMs / 2);
  const claims = new Map<number, Promise<boolean>>();
  const won = new Set<number>();
  let lastTarget = Number.NEGATIVE_INFINITY;
  let lastStart = Number.NEGATIVE_INFINITY;
  let pausedUntil = 0;
  let pauseRead: { startedAt: number; done: Promise<void> } | undefined;
  const waiting: Record<CallPriority, number> = { person: 0, background: 0 };
  const credits: Record<CallPriority, { day: string; left: number }> = {
    person: { day: '', left: 0 },
    background: { day: '', left: 0 },
  };
  let queue: Promise<unknown> = Promise.resolve();

  function claim(block: number): Promise<boolean> {
    let claimed = claims.get(block);
    if (!claimed) {
      claimed = db
        .send(
          new PutCommand({
            TableName: table,
            Item: { pk, sk: rateSlotSortKey(block), expiresAt: Math.ceil(now() / 1000) + 120 },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .then(
          () => {
            won.add(block);
            return true;
          },
          (error: unknown) => {
            if (error instanceof ConditionalCheckFailedException) return false;
            claims.delete(block);
            throw error;
          },
        );
      claimed.catch(() => undefined);
      claims.set(block, claimed);
      for (const old of claims.keys()) {
        if (old < block - 4) {
          claims.delete(old);
          won.delete(old);
        }
      }
    }
    return claimed;
  }

  /** Claims blocks ahead, off the callers' critical path, until one is ours. */
  function claimAhead(block: number, tries = 3): void {
    if (tries <= 0 || waiting.person + waiting.background <= 1) return;
    void claim(block).then(
      (ours) => {
        if (!ours) claimAhead(block + 1, tries - 1);
      },
      () => undefined,
    );
  }

  function readPause(): Promise<void> {
    const startedAt = now();
    if (pauseRead && startedAt - pauseRead.startedAt < pauseFreshMs) return pauseRead.done;
    const done = db
      .send(new GetCommand({ TableName: table, Key: gongPauseKey(key), ConsistentRead: true }))
      .then((out) => {
        const until = out.Item?.pauseUntil;
        if (typeof until === 'number') pausedUntil = Math.max(pausedUntil, until);
      })
      // Unreadable now: the pause we know of still holds, and the next call reads again.
      .catch(() => {
        if (pauseRead?.startedAt === startedAt) pauseRead = undefined;
      });
    pauseRead = { startedAt, done };
    return done;
  }

  /** Takes one call of the day's budget, reserving a block's worth at a time. */
  async function spend(priority: CallPriority): Promise<void> {
    const budget = options.dailyBudget;
    if (budget === undefined) return;
    const at = now();
    const day = new Date(at).toISOString().slice(0, 10);
    const mine = credits[priority];
    if (mine.day === day && mine.left > 0) {
      mine.left--;
      return;
    }
    const limit = priority === 'background' ? Math.floor(budget * BACKGROUND_SHARE) : budget;
    const itemKey = gongBudgetKey(key, day);
    let want = Math.max(1, Math.min(slotsPerBlock, waiting[priority]));
    for (;;) {
      try {
        const out = await db.send(
          new UpdateCommand({
            TableName: table,
            Key: itemKey,
            UpdateExpression: 'ADD #count :n SET expiresAt = if_not_exists(expiresAt, :expires)',
            ConditionExpression: 'attribute_not_exists(#count) OR #count <= :max',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: {
              ':n': want,
              ':max': limit - want,
              ':expires': Math.ceil(nextUtcMidnight(at) / 1000) + 86_400,
            },
            ReturnValues: 'UPDATED_NEW',
          }),
        );
        const used = Number(out.Attributes?.count ?? want);
        options.onBudgetUsed?.((used / budget) * 100);
        credits[priority] = { day, left: want - 1 };
        return;
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // Not room for a whole block: take what is left, if anything.
      const out = await db.send(new GetCommand({ TableName: table, Key: itemKey, ConsistentRead: true }));
      const used = Number(out.Item?.count ?? 0);
      if (used >= limit) throw new BudgetSpentError({ priority, budget, used, renewsAt: nextUtcMidnight(at) });
      want = Math.min(want, limit - used);
    }
  }

  function refund(priority: CallPriority): void {
    if (options.dailyBudget !== undefined) credits[priority].left++;
  }

  async function take(deadline: number): Promise<number> {
    for (;;) {
      let target = Math.max(lastTarget + intervalMs, lastStart + intervalMs - toleranceMs, pausedUntil, now());
      if (target > deadline) throw new SlotUnavailableError(target - now());
      const block = Math.floor(target / blockMs);
      if (!(await claim(block))) {
        // Another container has this block: ours starts at a block boundary, never inside theirs.
        lastTarget = Math.max(lastTarget, (block + 1) * blockMs - intervalMs);
        claimAhead(block + 1);
        continue;
      }
      claimAhead(block + 1);
      const pauseCheckIn = target - pauseFreshMs - now();
      if (pauseCheckIn > 0) await sleep(pauseCheckIn);
      await readPause();
      if (pausedUntil > target) continue;
      const wait = target - now();
      if (wait > 0) await sleep(wait);
      // Decide at the moment of waking: a late timer moves this call, it never doubles it up.
      const startAt = now();
      if (pausedUntil > startAt) continue;
      if (startAt < lastStart + intervalMs - toleranceMs) continue;
      const startBlock = Math.floor(startAt / blockMs);
      const lastSlotOfBlock = (startBlock + 1) * blockMs - intervalMs;
      const inOurBlock = won.has(startBlock);
      const nextIsOurs = won.has(startBlock + 1);
      if (!inOurBlock || (startAt > lastSlotOfBlock + toleranceMs && !nextIsOurs)) {
        lastTarget = Math.max(lastTarget, target);
        continue;
      }
      if (startAt > deadline) throw new SlotUnavailableError(0);
      lastTarget = Math.max(target, startAt - toleranceMs);
      lastStart = startAt;
      return startAt;
    }
  }

  return {
    async acquire(deadline, priority = 'person') {
      waiting[priority]++;
      // One caller at a time per container: our own callers never race each other for a slot.
      const turn = queue.then(async () => {
        await spend(priority);
        try {
          return await take(deadline);
        } catch (error: unknown) {
          refund(priority);
          throw error;
        }
      });
      queue = turn.catch(() => undefined);
      try {
        return await turn;
      } finally {
        waiting[priority]--;
      }
    },
    async pauseUntil(epochMs) {
      pausedUntil = Math.max(pausedUntil, epochMs);
      try {
        await db.send(
          new UpdateCommand({
            TableName: table,
            Key: gongPauseKey(key),
            UpdateExpression: 'SET pauseUntil = :until, expiresAt = :expires',
            ConditionExpression: 'attribute_not_exists(pauseUntil) OR pauseUntil < :until',
            ExpressionAttributeValues: { ':until': epochMs, ':expires': Math.ceil(epochMs / 1000) + 3600 },
          }),
        );
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) options.onPauseWriteError?.(error);
      }
    },
  };
}
