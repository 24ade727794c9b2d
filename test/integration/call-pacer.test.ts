import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallPacer, SlotUnavailableError } from '#lib/gong/pacer.ts';
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

  it('holds every later call back until a 429 pause is over', async () => {
    const pacer = createCallPacer({ db, table, rps: 20, key: 'paused' });
    const resumeAt = Date.now() + 600;
    pacer.pauseUntil(resumeAt);
    await pacer.acquire(Date.now() + 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(resumeAt);
  });

  it('refuses a slot that would start after the deadline, without waiting for it', async () => {
    const pacer = createCallPacer({ db, table, rps: 1, key: 'deadline' });
    pacer.pauseUntil(Date.now() + 60_000);
    const started = Date.now();
    await expect(pacer.acquire(Date.now() + 1_000)).rejects.toBeInstanceOf(SlotUnavailableError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
