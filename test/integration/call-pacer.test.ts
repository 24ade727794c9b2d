import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCallPacer, SlotUnavailableError } from '../../lib/call-pacer.ts';
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
    const calls: number[] = [];

    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        await containers[i % 2]?.acquire(deadline);
        calls.push(Date.now());
      }),
    );

    calls.sort((a, b) => a - b);
    const busiestSecond = Math.max(...calls.map((t) => calls.filter((u) => u >= t && u < t + 1000).length));
    // One call per 1/rps window: a late call can share a second with the next window's, never more.
    expect(busiestSecond).toBeLessThanOrEqual(rps + 1);
    expect((calls.at(-1) ?? 0) - (calls[0] ?? 0)).toBeGreaterThanOrEqual(((30 - 1) / rps) * 1000 - 150);
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
