import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { rateSlotPartition, rateSlotSortKey } from '#lib/table/keys.ts';

/** Thrown when no call slot can start before the caller's deadline. */
export class SlotUnavailableError extends Error {
  override name = 'SlotUnavailableError';
  readonly waitMs: number;
  constructor(waitMs: number) {
    super(`no Gong call slot before the deadline (next one in ${Math.ceil(waitMs / 1000)} s)`);
    this.waitMs = waitMs;
  }
}

/** Hands out evenly spaced call slots; `pauseUntil` pushes every later slot past a 429's Retry-After. */
export interface CallPacer {
  /** Resolves at the start of this caller's slot, with that start (epoch ms) on the global grid. */
  acquire(deadline: number): Promise<number>;
  pauseUntil(epochMs: number): void;
}

interface PacerOptions {
  db: DynamoDBDocumentClient;
  table: string;
  /** Calls a second for the whole deployment (GONG_MAX_RPS). */
  rps: number;
  /** Partition of the slots, so two Gong companies would not share a budget. */
  key?: string;
  now?: () => number;
}

/**
 * Paces Gong calls across every container of the deployment. Time is cut into windows of 1/rps
 * seconds on one global grid, grouped into blocks of about a second; a block belongs to whichever
 * container first writes its item (a conditional put), and its owner makes at most one call in
 * each of its windows. So the deployment makes at most one call per window — `rps` a second,
 * spread evenly — and a container pays one small write per second of calls, not one per call.
 */
export function createCallPacer(options: PacerOptions): CallPacer {
  const { db, table, rps } = options;
  const now = options.now ?? Date.now;
  const pk = rateSlotPartition(options.key ?? 'gong');
  const intervalMs = 1000 / rps;
  const slotsPerBlock = Math.max(1, Math.floor(rps));
  const blockStart = (block: number) => block * slotsPerBlock * intervalMs;
  // Claim the next block this long before it starts, so the write's latency never delays a call.
  const claimLeadMs = 250;
  const claims = new Map<number, Promise<boolean>>();
  let nextSlot = 0;
  let pausedUntil = 0;
  let waiting = 0;
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
          () => true,
          (error: unknown) => {
            if (error instanceof ConditionalCheckFailedException) return false;
            claims.delete(block);
            throw error;
          },
        );
      claimed.catch(() => undefined);
      claims.set(block, claimed);
      for (const old of claims.keys()) if (old < block - 2) claims.delete(old);
    }
    return claimed;
  }

  async function take(deadline: number): Promise<number> {
    // The current window is still usable if nobody here used it; a window already over is not.
    let slot = Math.max(nextSlot, Math.floor(now() / intervalMs), Math.ceil(pausedUntil / intervalMs));
    for (;;) {
      const startsAt = slot * intervalMs;
      if (startsAt > deadline) throw new SlotUnavailableError(startsAt - now());
      const block = Math.floor(slot / slotsPerBlock);
      const early = blockStart(block) - now() - claimLeadMs;
      if (early > 0) await sleep(early);
      if (!(await claim(block))) {
        // Another container has this second: try the next one.
        slot = Math.max((block + 1) * slotsPerBlock, Math.floor(now() / intervalMs));
        continue;
      }
      nextSlot = slot + 1;
      if (waiting > 1 && Math.floor(nextSlot / slotsPerBlock) === block) prefetch(block + 1);
      const wait = startsAt - now();
      if (wait > 0) await sleep(wait);
      return startsAt;
    }
  }

  function prefetch(block: number): void {
    // More callers are queued: claim the next block ahead of time, off their critical path.
    if (claims.has(block)) return;
    const timer = setTimeout(
      () => void claim(block).catch(() => undefined),
      blockStart(block) - now() - claimLeadMs,
    );
    timer.unref();
  }

  return {
    async acquire(deadline) {
      waiting++;
      // One caller at a time per container: our own callers never race each other for a slot.
      const turn = queue.then(() => take(deadline));
      queue = turn.catch(() => undefined);
      try {
        return await turn;
      } finally {
        waiting--;
      }
    },
    pauseUntil(epochMs) {
      pausedUntil = Math.max(pausedUntil, epochMs);
    },
  };
}
