import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { wallClockMs } from '#lib/gong/clock.ts';
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

/** Background work stops at this share of the daily budget and leaves the rest to people (README › Staying under Gong's limits). */
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
  /**
   * Resolves when this caller may start its call (epoch ms). Throws SlotUnavailableError or
   * BudgetSpentError. A `retry` is another attempt of a call already counted among those `prepare`
   * said are coming.
   */
  acquire(deadline: number, priority?: CallPriority, attempt?: { retry?: boolean }): Promise<number>;
  /** Gong answered 429: no container of the deployment calls before `epochMs`. */
  pauseUntil(epochMs: number): Promise<void>;
  /** When the call just granted really left (epoch ms): the next one is spaced from then. */
  callSent?(sentAt: Promise<number>): void;
  /**
   * About `calls` calls of this priority are coming: read the pause if it is stale, claim the block
   * of the next slot and reserve their budget now, while the caller gets ready, so its first call
   * waits on none of them.
   */
  prepare?(priority?: CallPriority, calls?: number): void;
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

/** The last stretch before a slot that is spun rather than slept (see take). */
const SPIN_MS = 3;

function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** The next UTC midnight after `at` (epoch ms). */
export function nextUtcMidnight(at: number): number {
  const day = new Date(at);
  return Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate() + 1);
}

/** `promise`, or undefined once `ms` have passed; the timer is cleared either way, so none outlives the race. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  const timeout = new AbortController();
  try {
    return await Promise.race([
      promise,
      sleep(ms, undefined, { signal: timeout.signal }).then(() => undefined),
    ]);
  } finally {
    timeout.abort();
  }
}

/**
 * Paces Gong calls across every container of the deployment (README › Staying under Gong's limits).
 *
 * Time is cut into slots of 1/rps on one global grid, grouped into blocks of about a second; a block
 * belongs wholly to whichever container first writes its item (a conditional put), claimed a block
 * ahead while callers wait. Within its blocks a container starts a call no earlier than its slot and
 * no earlier than `interval` after its previous call was sent, deciding at the moment it wakes:
 * timers that run late (a busy CPU) cost that call its slot, they never fire two calls together.
 * Across containers, a block's last call may start at most `tolerance` late and a block whose
 * previous block was another's starts `tolerance` late, so the hand-over keeps the interval too;
 * a call later than that waits for a block that is ours. So two calls of the deployment are never
 * less than `interval` apart.
 *
 * A 429 writes `pauseUntil` to the table, and every container reads it before its calls. The day's
 * budget is one counter per UTC day, reserved a block of calls at a time with a conditional ADD.
 */
export function createCallPacer(options: PacerOptions): CallPacer {
  const { db, table, rps } = options;
  const now = options.now ?? wallClockMs;
  const key = options.key ?? 'gong';
  const pk = rateSlotPartition(key);
  const intervalMs = 1000 / rps;
  // Lateness a call may still have and keep its slot; beyond it the slot is given up.
  const toleranceMs = intervalMs * 0.05;
  // Two slots at least: a one-slot block would leave its call no room to be late at a hand-over.
  const slotsPerBlock = Math.max(2, Math.floor(rps));
  const blockMs = slotsPerBlock * intervalMs;
  // A block's start times its number in floating point: the nudge keeps a start inside its own block.
  const blockOf = (at: number) => Math.floor((at + 1e-6) / blockMs);
  // The shared pause is read over and over while callers wait (a 429 elsewhere reaches us within a
  // read), off their critical path; only a caller whose latest read is older than pauseStaleMs waits for one.
  const pausePollMs = Math.min(100, intervalMs);
  const pauseStaleMs = 500;
  const claims = new Map<number, Promise<boolean>>();
  const won = new Set<number>();
  // Handing back the rest of our blocks when a bulk check is done (handBack), and taking the rest
  // of another's (watchForHandBack): the item names its owner, the rest is taken once.
  const owner = randomUUID();
  const handedBack = new Set<number>();
  const watching = new Set<number>();
  let handBackArmed = false;
  let wakeTaker: (() => void) | undefined;
  let takenWhileAwake = false;
  // The latest last call of the owners whose blocks we took (plus the tolerance): taking another
  // block moves our next call earlier, never before an interval after any of those calls.
  let takenAfter = Number.NEGATIVE_INFINITY;
  let lastTarget = Number.NEGATIVE_INFINITY;
  let lastStart = Number.NEGATIVE_INFINITY;
  let pausedUntil = 0;
  let pauseKnownAsOf = Number.NEGATIVE_INFINITY;
  let pauseInFlight: Promise<void> | undefined;
  let pausePoll: NodeJS.Timeout | undefined;
  const reserving: Record<CallPriority, Promise<void> | undefined> = {
    person: undefined,
    background: undefined,
  };
  const waiting: Record<CallPriority, number> = { person: 0, background: 0 };
  // Calls a caller said are coming (prepare) and not yet made: a bulk check keeps only a few
  // batches waiting at a time, and its budget is still reserved a block at a time.
  const coming: Record<CallPriority, number> = { person: 0, background: 0 };
  const credits: Record<CallPriority, { day: string; left: number }> = {
    person: { day: '', left: 0 },
    background: { day: '', left: 0 },
  };
  let queue: Promise<unknown> = Promise.resolve();
  // A request can leave well after its grant (a new connection under a busy CPU): the next call waits
  // for it, up to this long, so two requests never leave together.
  let previousSent: Promise<number> | undefined;
  const sentWaitMs = 1_000;

  // How long the table takes to answer a claim, rising at once and falling slowly: how far ahead to claim.
  let claimLatencyMs = 0;
  function noteLatency(ms: number): void {
    claimLatencyMs = Math.max(ms, claimLatencyMs * 0.8);
  }

  function claim(block: number): Promise<boolean> {
    let claimed = claims.get(block);
    if (!claimed) {
      const sentAt = now();
      // Kept two minutes past the block's end, not its claim: a block claimed ahead of a long pause
      // must still be there, and ours, when it comes.
      const expiresAt = Math.ceil(((block + 1) * blockMs) / 1000) + 120;
      claimed = db
        .send(
          new PutCommand({
            TableName: table,
            Item: { pk, sk: rateSlotSortKey(block), owner, expiresAt },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        )
        .then(
          () => {
            noteLatency(now() - sentAt);
            won.add(block);
            return true;
          },
          (error: unknown) => {
            if (error instanceof ConditionalCheckFailedException) {
              noteLatency(now() - sentAt);
              return false;
            }
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
          handedBack.delete(old);
        }
      }
    }
    return claimed;
  }

  /** Claims blocks ahead, off the callers' critical path, until one is ours. */
  function claimAhead(block: number, tries = 3): void {
    if (tries <= 0) return;
    void claim(block).then(
      (ours) => {
        if (!ours) claimAhead(block + 1, tries - 1);
      },
      () => undefined,
    );
  }

  function readPause(): Promise<void> {
    if (pauseInFlight) return pauseInFlight;
    const startedAt = now();
    pauseInFlight = db
      .send(new GetCommand({ TableName: table, Key: gongPauseKey(key), ConsistentRead: true }))
      .then(
        (out) => {
          const until = out.Item?.pauseUntil;
          if (typeof until === 'number') pausedUntil = Math.max(pausedUntil, until);
          pauseKnownAsOf = Math.max(pauseKnownAsOf, startedAt);
        },
        // Unreadable now: the pause we know of still holds, and the next read tries again.
        () => undefined,
      )
      .finally(() => {
        pauseInFlight = undefined;
        if (waiting.person + waiting.background > 0 && !pausePoll) {
          pausePoll = setTimeout(
            () => {
              pausePoll = undefined;
              void readPause();
            },
            Math.max(0, pausePollMs - (now() - startedAt)),
          );
          pausePoll.unref();
        }
      });
    return pauseInFlight;
  }

  /** Calls of today's budget this container holds for `priority` (reserved, not yet spent). */
  function creditsLeft(priority: CallPriority): number {
    const mine = credits[priority];
    return mine.day === utcDay(now()) ? mine.left : 0;
  }

  /** Takes one call of the day's budget from this container's reserved calls, reserving more ahead. */
  async function spend(priority: CallPriority): Promise<void> {
    if (options.dailyBudget === undefined) return;
    for (;;) {
      if (creditsLeft(priority) > 0) {
        const mine = credits[priority];
        mine.left--;
        // Reserve the next calls while these are spent, so the write is off the callers' path; at
        // most a block ahead, so a container recycled mid-check has counted under two blocks too many.
        const next = Math.min(slotsPerBlock, Math.max(waiting[priority] - 1, coming[priority]));
        if (mine.left < next) void reserve(priority).catch(() => undefined);
        return;
      }
      await reserve(priority);
    }
  }

  function reserve(priority: CallPriority): Promise<void> {
    let pending = reserving[priority];
    if (!pending) {
      pending = reserveOnce(priority).finally(() => {
        reserving[priority] = undefined;
      });
      reserving[priority] = pending;
    }
    return pending;
  }

  /**
   * One conditional ADD to the day's counter: a block's worth for background work (it comes in
   * bulk, one batch after another), as many as are waiting (or said to be coming) for people.
   */
  async function reserveOnce(priority: CallPriority): Promise<void> {
    const budget = options.dailyBudget ?? 0;
    const at = now();
    const day = utcDay(at);
    const limit = priority === 'background' ? Math.floor(budget * BACKGROUND_SHARE) : budget;
    const itemKey = gongBudgetKey(key, day);
    const mine = credits[priority];
    const held = mine.day === day ? mine.left : 0;
    const demand =
      priority === 'background' ? slotsPerBlock : Math.max(waiting[priority], coming[priority]) - held;
    let want = Math.min(slotsPerBlock, limit, Math.max(1, demand));
    for (;;) {
      if (want <= 0)
        throw new BudgetSpentError({ priority, budget, used: limit, renewsAt: nextUtcMidnight(at) });
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
        options.onBudgetUsed?.((Number(out.Attributes?.count ?? want) / budget) * 100);
        const current = credits[priority];
        credits[priority] = { day, left: (current.day === day ? current.left : 0) + want };
        return;
      } catch (error: unknown) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      // Not room for that many: take what is left, if anything.
      const out = await db.send(new GetCommand({ TableName: table, Key: itemKey, ConsistentRead: true }));
      const used = Number(out.Item?.count ?? 0);
      if (used >= limit)
        throw new BudgetSpentError({ priority, budget, used, renewsAt: nextUtcMidnight(at) });
      want = Math.min(want, limit - used);
    }
  }

  function refund(priority: CallPriority): void {
    if (options.dailyBudget !== undefined) credits[priority].left++;
  }

  /**
   * A bulk check has made its last call: the rest of our blocks go back, saying when that call left,
   * so a container waiting on them need not sit out the rest of the block (a check that ends
   * mid-block would otherwise leave up to a block idle). Only after a bulk check: one write, and a
   * person's next check in the same second would have to wait for a block of its own.
   */
  function handBack(lastSent: Promise<number>): void {
    handBackArmed = false;
    const grantedAt = lastStart;
    void lastSent.then((sentAt) => {
      // A call granted since (a retry, another check) holds the blocks again.
      const busy = waiting.person + waiting.background + coming.person + coming.background > 0;
      if (lastStart !== grantedAt || busy) return;
      const doneAt = Math.max(sentAt, grantedAt);
      for (const block of [...won]) {
        // The rest of a block that has no slot left after doneAt + the interval is no use to anyone.
        if ((block + 1) * blockMs - intervalMs <= doneAt + intervalMs) continue;
        won.delete(block);
        handedBack.add(block);
        db.send(
          new UpdateCommand({
            TableName: table,
            Key: { pk, sk: rateSlotSortKey(block) },
            UpdateExpression: 'SET doneAt = :doneAt',
            ConditionExpression: '#owner = :owner AND attribute_not_exists(doneAt)',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':doneAt': doneAt, ':owner': owner },
          }),
        ).catch(() => undefined); // Not handed back: the rest of the block stays unused.
      }
    });
  }

  /**
   * While our callers wait out a block another container won, looks for its owner to hand back the
   * rest (every poll interval, until only its last slot is left) and takes it with a conditional
   * write: our first call in it starts no earlier than the owner's last call plus the interval and
   * the tolerance. Two takers: one write lands, the other waits as before.
   */
  function watchForHandBack(block: number): void {
    if (watching.has(block) || handedBack.has(block)) return;
    watching.add(block);
    const itemKey = { pk, sk: rateSlotSortKey(block) };
    const lastUsefulAt = (block + 1) * blockMs - 2 * intervalMs;
    void (async () => {
      while (waiting.person + waiting.background > 0 && !won.has(block) && now() < lastUsefulAt) {
        const out = await db.send(new GetCommand({ TableName: table, Key: itemKey, ConsistentRead: true }));
        if (out.Item === undefined || out.Item.takenBy !== undefined) return;
        const doneAt = out.Item.doneAt;
        if (typeof doneAt === 'number') {
          if (doneAt + intervalMs + toleranceMs > lastUsefulAt + intervalMs) return;
          await db.send(
            new UpdateCommand({
              TableName: table,
              Key: itemKey,
              UpdateExpression: 'SET takenBy = :owner',
              ConditionExpression: 'attribute_exists(doneAt) AND attribute_not_exists(takenBy)',
              ExpressionAttributeValues: { ':owner': owner },
            }),
          );
          won.add(block);
          takenAfter = Math.max(takenAfter, doneAt + toleranceMs);
          lastTarget = Math.max(lastStart, takenAfter);
          takenWhileAwake = true;
          wakeTaker?.();
          return;
        }
        await sleep(pausePollMs);
      }
    })()
      // Taken by another, or the table failed: our callers wait for a block of our own, as before.
      .catch(() => undefined)
      .finally(() => watching.delete(block));
  }

  /** The earliest the next call may start: its slot, an interval after the last, after any pause. */
  function nextTarget(): number {
    return Math.max(lastTarget + intervalMs, lastStart + intervalMs, pausedUntil, now());
  }

  async function take(deadline: number): Promise<number> {
    for (;;) {
      const target = nextTarget();
      if (target > deadline) throw new SlotUnavailableError(target - now());
      const block = blockOf(target);
      const ours = won.has(block) || (!handedBack.has(block) && (await claim(block)));
      if (!ours) {
        // Another container has this block (or we handed it back): ours starts at a block boundary,
        // never inside theirs, unless its owner hands the rest back.
        lastTarget = Math.max(lastTarget, (block + 1) * blockMs - intervalMs);
        claimAhead(block + 1);
        watchForHandBack(block);
        continue;
      }
      // Claim later blocks only for callers this one cannot serve (an unused block is a hole for the
      // others), and as far ahead as the table is slow, so a claim is answered before its block starts.
      const slotsLeft = Math.floor(((block + 1) * blockMs - target) / intervalMs + 1e-6);
      const needed = Math.ceil((waiting.person + waiting.background - slotsLeft) / slotsPerBlock);
      const ahead = Math.min(needed, 1 + Math.ceil(claimLatencyMs / blockMs));
      for (let next = 1; next <= ahead; next++) claimAhead(block + next);
      if (!pausePoll) void readPause();
      // Node's timers count whole milliseconds, and fire only once the event loop is free: a bulk
      // check's storage holds it for a few milliseconds at a time, and every millisecond a call
      // leaves late pushes all the calls after it back (each waits an interval from the previous
      // send). So sleep to SPIN_MS before the slot and spin the rest: a loop busy for up to that long
      // no longer delays the call (README › The bench). Bounded in real time at 2 × SPIN_MS a call,
      // so a clock that stands still cannot hold the CPU.
      const wait = target - now();
      if (wait > SPIN_MS) {
        // A block handed to us while we wait for a later one wakes us to start in it.
        const woken = new AbortController();
        wakeTaker = () => woken.abort();
        if (!takenWhileAwake)
          await sleep(wait - SPIN_MS, undefined, { signal: woken.signal }).catch(() => undefined);
        wakeTaker = undefined;
        if (takenWhileAwake) {
          takenWhileAwake = false;
          continue;
        }
      }
      const spinUntil = performance.now() + 2 * SPIN_MS;
      while (now() < target && performance.now() < spinUntil) {
        // Spinning on purpose: at most 2 × SPIN_MS a call.
      }
      // A slow table delays a call by at most pauseStaleMs: Gong would answer a call in a pause with
      // another 429 (and pause us again), a table that stalls every call costs more.
      if (now() - pauseKnownAsOf > pauseStaleMs) await within(readPause(), pauseStaleMs);
      // Decide at the moment of waking: a late timer moves this call, it never doubles it up.
      const startAt = now();
      if (pausedUntil > startAt) continue;
      if (startAt < lastStart + intervalMs) continue;
      const startBlock = blockOf(startAt);
      // Taking over from another container: our first call waits out the lateness theirs may have had.
      const handOverAt = startBlock * blockMs + toleranceMs;
      if (!won.has(startBlock - 1) && startAt < handOverAt) {
        lastTarget = Math.max(lastTarget, handOverAt - intervalMs);
        continue;
      }
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

  /**
   * A first call needs the pause, a block and the budget: three round trips asked at once rather
   * than one after another, and ahead of the call where the caller says calls are coming (a block
   * claimed for calls that then never come is at most one block of slots left unused).
   */
  function getReady(): void {
    if (now() - pauseKnownAsOf > pauseStaleMs) void readPause();
    claim(blockOf(nextTarget())).catch(() => undefined);
  }

  return {
    prepare(priority = 'person', calls = 1) {
      coming[priority] = calls;
      // Only a bulk check hands back: an earlier one that ended before its last call (its deadline,
      // the budget) leaves nothing armed for a person's check after it.
      handBackArmed = calls > 1;
      // With callers waiting the pacer is already at work: take claims and reads as it goes.
      if (waiting.person + waiting.background === 0) getReady();
      if (options.dailyBudget !== undefined && creditsLeft(priority) === 0)
        void reserve(priority).catch(() => undefined);
    },
    async acquire(deadline, priority = 'person', attempt = {}) {
      waiting[priority]++;
      // A container's first call, unprepared: get ready now, alongside the budget.
      if (claims.size === 0 && pauseKnownAsOf === Number.NEGATIVE_INFINITY && !pauseInFlight) getReady();
      // One caller at a time per container: our own callers never race each other for a slot.
      const turn = queue.then(async () => {
        // The call granted before this one may still be on its way to the wire: what this turn asks
        // of the table (budget, claims, the pause) would hold the event loop while fetch sends it,
        // and the next call is spaced from when it really left.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (previousSent) {
          const sentAt = await within(previousSent, sentWaitMs);
          previousSent = undefined;
          if (sentAt !== undefined && sentAt > lastStart) lastStart = sentAt;
        }
        if (!attempt.retry) coming[priority] = Math.max(0, coming[priority] - 1);
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
    callSent(sentAt) {
      previousSent = sentAt;
      const nothingLeft =
        waiting.person + waiting.background === 0 && coming.person + coming.background === 0;
      if (handBackArmed && nothingLeft) handBack(sentAt);
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
