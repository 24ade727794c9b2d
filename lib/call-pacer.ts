import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

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
  /** Resolves at the start of this caller's slot. */
  acquire(deadline: number): Promise<void>;
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
 * Paces Gong calls across every container of the deployment: slot n starts at n / rps seconds
 * and belongs to whoever writes its item first (a conditional put), so the whole deployment
 * makes at most `rps` evenly spaced calls a second. Slots are claimed one at a time, just in
 * time, so a long queue reserves nothing far ahead that another container could have used.
 */
export function createCallPacer(options: PacerOptions): CallPacer {
  const { db, table, rps } = options;
  const now = options.now ?? Date.now;
  const pk = `RATE#${options.key ?? 'gong'}`;
  const intervalMs = 1000 / rps;
  let nextSlot = 0;
  let pausedUntil = 0;
  let queue: Promise<void> = Promise.resolve();

  async function claim(slot: number): Promise<boolean> {
    try {
      await db.send(
        new PutCommand({
          TableName: table,
          Item: { pk, sk: String(slot).padStart(16, '0'), expiresAt: Math.ceil(now() / 1000) + 120 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error: unknown) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async function take(deadline: number): Promise<void> {
    let slot = Math.max(nextSlot, Math.ceil(Math.max(now(), pausedUntil) / intervalMs));
    for (;;) {
      const startsAt = slot * intervalMs;
      if (startsAt > deadline) throw new SlotUnavailableError(startsAt - now());
      // Claim only the slot about to start; claiming far ahead would starve other containers.
      const lead = startsAt - now() - intervalMs;
      if (lead > 0) await sleep(lead);
      if (await claim(slot)) {
        nextSlot = slot + 1;
        const wait = startsAt - now();
        if (wait > 0) await sleep(wait);
        return;
      }
      slot = Math.max(slot + 1, Math.ceil(now() / intervalMs));
    }
  }

  return {
    acquire(deadline) {
      // One claim at a time per container: our own callers never race each other for a slot.
      const turn = queue.then(() => take(deadline));
      queue = turn.catch(() => undefined);
      return turn;
    },
    pauseUntil(epochMs) {
      pausedUntil = Math.max(pausedUntil, epochMs);
    },
  };
}
