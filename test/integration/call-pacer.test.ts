import { createHook } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BudgetSpentError, createCallPacer, SlotUnavailableError } from '#lib/gong/pacer.ts';
import { gongBudgetKey, rateSlotPartition, rateSlotSortKey } from '#lib/table/keys.ts';
import { type LocalTable, startLocalTable } from '../support/stack.ts';

describe('createCallPacer (two containers sharing one table)', () => {
  let local: LocalTable;
  let db: DynamoDBDocumentClient;
  const table = 'pacer-test';

  beforeAll(async () => {
    local = await startLocalTable(table);
    db = local.db;
  });
  afterAll(async () => local?.stop());

  const blockKey = (key: string, block: number) => ({
    pk: rateSlotPartition(key),
    sk: rateSlotSortKey(block),
  });
  /** A block's item as the table holds it: who claimed it, when it was handed back, who took the rest. */
  const blockItem = async (key: string, block: number) =>
    (await db.send(new GetCommand({ TableName: table, Key: blockKey(key, block), ConsistentRead: true })))
      .Item;
  /** Just after the next block boundary at 10 calls a second (blocks of one second), so a block has room left. */
  const nextBlockStart = () => sleep(1_000 - (Date.now() % 1_000) + 20);

  it('leaves no timer running once its calls are granted and sent', async () => {
    const pacer = createCallPacer({ db, table, rps: 10, key: 'no-timers-left' });
    const deadline = Date.now() + 10_000;
    const alive = new Map<number, string>();
    const hook = createHook({
      init(id, type) {
        if (type === 'Timeout') alive.set(id, new Error().stack ?? '');
      },
      destroy(id) {
        alive.delete(id);
      },
    }).enable();
    try {
      for (let call = 0; call < 2; call++) pacer.callSent?.(Promise.resolve(await pacer.acquire(deadline)));
      await sleep(150);
    } finally {
      hook.disable();
    }

    // A wait that lost its race (for the previous send, for the pause) would hold a process open.
    expect([...alive.values()].filter((stack) => stack.includes('pacer.ts'))).toEqual([]);
  });

  it('keeps two containers together under the deployment-wide rate', async () => {
    const rps = 10;
    const containers = [
      createCallPacer({ db, table, rps, key: 'shared' }),
      createCallPacer({ db, table, rps, key: 'shared' }),
    ];
    const deadline = Date.now() + 30_000;

    const starts = await Promise.all(
      Array.from({ length: 30 }, (_, i) => containers[i % 2]?.acquire(deadline) ?? Promise.reject()),
    );

    // The slots both containers were given: one per 1/rps window of the global grid, never two.
    starts.sort((a, b) => a - b);
    const windows = starts.map((start) => Math.round(start / (1000 / rps)));
    expect(new Set(windows).size).toBe(30);
    const busiestSecond = Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + 1000).length));
    expect(busiestSecond).toBeLessThanOrEqual(rps);
    expect((starts.at(-1) ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(((30 - 1) / rps) * 1000 - 1);
  });

  it('gets a warm container ready for a bulk check before its first call: its block claimed, a block of budget reserved', async () => {
    const key = 'prepared';
    // 10 calls a second: blocks of 10 slots, one second each.
    const pacer = createCallPacer({ db, table, rps: 10, key, dailyBudget: 1_000 });
    await pacer.acquire(Date.now() + 5_000);
    // Warm, and idle long enough that its block and its read of the pause are past.
    await sleep(1_200);
    const block = Math.floor(Date.now() / 1_000);

    pacer.prepare?.('person', 30);
    await sleep(150);

    expect(await blockItem(key, block)).toBeDefined();
    const day = new Date().toISOString().slice(0, 10);
    const budget = await db.send(new GetCommand({ TableName: table, Key: gongBudgetKey(key, day) }));
    // One call for the first acquire, then a block's worth for the 30 calls said to be coming.
    expect(budget.Item?.count).toBe(11);
  });

  it('keeps a block claimed ahead of a long pause until the block has passed', async () => {
    const key = 'claimed-far-ahead';
    // 10 calls a second: blocks of 10 slots, one second each.
    const pacer = createCallPacer({ db, table, rps: 10, key });
    // A Retry-After longer than a block item is kept after its claim: the next slot is past it.
    const pausedUntil = Date.now() + 300_000;
    await pacer.pauseUntil(pausedUntil);

    pacer.prepare?.('background', 2);

    const block = Math.floor(pausedUntil / 1_000);
    await expect.poll(() => blockItem(key, block)).toBeDefined();
    expect((await blockItem(key, block))?.expiresAt).toBeGreaterThan(block + 1);
  });

  it('holds every later call back until a 429 pause is over', async () => {
    const pacer = createCallPacer({ db, table, rps: 20, key: 'paused' });
    const resumeAt = Date.now() + 600;
    await pacer.pauseUntil(resumeAt);
    await pacer.acquire(Date.now() + 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(resumeAt);
  });

  it('refuses a slot that would start after the deadline, without waiting for it', async () => {
    const pacer = createCallPacer({ db, table, rps: 1, key: 'deadline' });
    await pacer.pauseUntil(Date.now() + 60_000);
    const started = Date.now();
    await expect(pacer.acquire(Date.now() + 1_000)).rejects.toBeInstanceOf(SlotUnavailableError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("holds another container back until a 429's pause is over", async () => {
    const [a, b] = [
      createCallPacer({ db, table, rps: 10, key: 'shared-pause' }),
      createCallPacer({ db, table, rps: 10, key: 'shared-pause' }),
    ];
    const resumeAt = Date.now() + 800;
    await a.pauseUntil(resumeAt);

    const started = await b.acquire(Date.now() + 10_000);

    expect(started).toBeGreaterThanOrEqual(resumeAt);
  });

  it('returns start times at least the interval apart even when the event loop is blocked', async () => {
    const rps = 20;
    const pacer = createCallPacer({ db, table, rps, key: 'late-timers' });
    const deadline = Date.now() + 30_000;
    // A busy CPU: the event loop is blocked for 120 ms (more than two intervals) every 200 ms.
    const busy = setInterval(() => {
      const until = Date.now() + 120;
      while (Date.now() < until);
    }, 200);
    try {
      const starts = await Promise.all(Array.from({ length: 30 }, () => pacer.acquire(deadline)));
      starts.sort((x, y) => x - y);
      const gaps = starts.slice(1).map((start, i) => start - (starts[i] ?? 0));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 / rps);
    } finally {
      clearInterval(busy);
    }
  });

  it('hands the rest of its block to a waiting container once its bulk check has made its last call', async () => {
    const rps = 10; // blocks of 10 slots: one second
    const key = 'hand-back';
    const [a, b] = [createCallPacer({ db, table, rps, key }), createCallPacer({ db, table, rps, key })];
    // Start just after a block boundary, so the block has room left once A is done.
    await nextBlockStart();
    const block = Math.floor(Date.now() / 1_000);
    const deadline = Date.now() + 30_000;
    const sent = (at: number) => Promise.resolve(at);

    a.prepare?.('background', 2);
    const firstOfA = await a.acquire(deadline, 'background');
    a.callSent?.(sent(firstOfA));
    // B comes while A holds the block: it loses it and waits.
    const fromB = Promise.all(Array.from({ length: 3 }, () => b.acquire(deadline)));
    await sleep(150);
    const lastOfA = await a.acquire(deadline, 'background');
    a.callSent?.(sent(lastOfA));
    const startsOfB = await fromB;

    // B did not wait for a block of its own: it took the rest of A's, an interval after A's last call.
    const firstOfB = Math.min(...startsOfB);
    expect(Math.floor(firstOfB / 1_000)).toBe(block);
    expect(firstOfB - lastOfA).toBeGreaterThanOrEqual(1_000 / rps);
    const starts = [firstOfA, lastOfA, ...startsOfB].sort((x, y) => x - y);
    const gaps = starts.slice(1).map((start, i) => start - (starts[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1_000 / rps);
    expect((await blockItem(key, block))?.doneAt).toBe(lastOfA);
  });

  it('keeps its blocks while a bulk check that retried a call still has a call to come', async () => {
    const rps = 10; // blocks of 10 slots: one second
    const key = 'retry-keeps-blocks';
    const pacer = createCallPacer({ db, table, rps, key });
    const deadline = Date.now() + 30_000;
    const sent = (at: number) => Promise.resolve(at);
    await nextBlockStart();
    const block = Math.floor(Date.now() / 1_000);
    // Three calls, the first answered 500 and retried; the third is not asked for yet (its batch
    // waits for its read) when the second has left.
    pacer.prepare?.('background', 3);
    pacer.callSent?.(sent(await pacer.acquire(deadline, 'background')));
    pacer.callSent?.(sent(await pacer.acquire(deadline, 'background', { retry: true })));
    const second = await pacer.acquire(deadline, 'background');
    pacer.callSent?.(sent(second));
    await sleep(50);
    const third = await pacer.acquire(deadline, 'background');

    // The third call takes the next slot of the block, not a block of its own a second later.
    expect(Math.floor(third / 1_000)).toBe(block);
    expect(third - second).toBeLessThan(2 * (1_000 / rps));
    expect((await blockItem(key, block))?.doneAt).toBeUndefined();
  });

  it("hands nothing back after a person's check that follows a bulk check cut short", async () => {
    const rps = 10; // blocks of 10 slots: one second
    const key = 'no-stale-hand-back';
    const pacer = createCallPacer({ db, table, rps, key });
    const far = () => Date.now() + 30_000;
    const sent = (at: number) => Promise.resolve(at);
    // Start just after a block boundary, so the person's block has room left after its call.
    await nextBlockStart();
    // A bulk check of three calls whose third is refused (its deadline is before its slot).
    pacer.prepare?.('background', 3);
    pacer.callSent?.(sent(await pacer.acquire(far(), 'background')));
    const second = await pacer.acquire(far(), 'background');
    const third = pacer.acquire(Date.now() + 1, 'background').catch((error: unknown) => error);
    pacer.callSent?.(sent(second));
    expect(await third).toBeInstanceOf(SlotUnavailableError);

    pacer.prepare?.('person', 1);
    const person = await pacer.acquire(far());
    pacer.callSent?.(sent(person));
    await sleep(100);

    const block = Math.floor(person / 1_000);
    const item = await blockItem(key, block);
    expect(item).toBeDefined();
    expect(item?.doneAt).toBeUndefined();
  });

  it('keeps the interval after the latest hand-back it took when an older one is taken after it', async () => {
    // Containers A and C are their block items, written as their pacers write them: A owns block
    // N, C owns N + 1 (it lost N to A and claimed ahead), and both hand back, A's last call in N
    // and C's in N − 1. The waiting container takes A's block first, then C's.
    const rps = 3;
    const interval = 1_000 / rps;
    const key = 'two-hand-backs';
    const block = Math.floor(Date.now() / 1_000) + 2;
    for (const [n, owner] of [
      [block, 'A'],
      [block + 1, 'C'],
    ] as const)
      await db.send(new PutCommand({ TableName: table, Item: { ...blockKey(key, n), owner } }));
    const handBack = (n: number, doneAt: number) =>
      db.send(
        new UpdateCommand({
          TableName: table,
          Key: blockKey(key, n),
          UpdateExpression: 'SET doneAt = :doneAt',
          ExpressionAttributeValues: { ':doneAt': doneAt },
        }),
      );
    const taken = async (n: number) => (await blockItem(key, n))?.takenBy !== undefined;
    const waiter = createCallPacer({ db, table, rps, key });
    await sleep(block * 1_000 + 5 - Date.now());
    // It loses both blocks and watches them while it waits for a block of its own.
    const granted = waiter.acquire(Date.now() + 10_000);
    await sleep(25);
    const lastOfA = block * 1_000 + 17;
    await handBack(block, lastOfA);
    await expect.poll(() => taken(block), { interval: 5 }).toBe(true);
    await handBack(block + 1, block * 1_000 - interval * 0.95);

    const start = await granted;

    expect(start - lastOfA).toBeGreaterThanOrEqual(interval);
  });

  it('counts the day per priority: background stops at 80%, a person gets the rest, then BudgetSpentError', async () => {
    const options = { db, table, rps: 20, dailyBudget: 10, key: 'budget' };
    const sweep = createCallPacer(options);
    const person = createCallPacer(options);
    const used: number[] = [];
    const deadline = Date.now() + 30_000;

    const background = await Promise.allSettled(
      Array.from({ length: 12 }, () => sweep.acquire(deadline, 'background')),
    );
    const people = await Promise.allSettled(
      Array.from({ length: 3 }, () => person.acquire(deadline, 'person')),
    );

    expect(background.filter((r) => r.status === 'fulfilled')).toHaveLength(8);
    const refused = background.find((r) => r.status === 'rejected');
    expect(refused?.status === 'rejected' && refused.reason).toBeInstanceOf(BudgetSpentError);
    expect(people.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const spent = createCallPacer({ ...options, onBudgetUsed: (percent) => used.push(percent) });
    await expect(spent.acquire(deadline, 'person')).rejects.toThrow(
      /GONG_DAILY_BUDGET=10.*renews at 00:00 UTC/,
    );
    expect(used).toEqual([]);
  });
});
