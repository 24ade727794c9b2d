import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { UserResult } from '#lib/check/report.ts';
import { createHistoryStore } from '#lib/history/history-store.ts';
import { historyKey, latestKey, statusPartition, statusSortKey } from '#lib/table/keys.ts';
import { startLocalTable } from '../test/support/stack.ts';

/**
 * CPU this process spends storing one check result (README › Storage), beside the floor: a plain
 * BatchWriteItem of the same two items (history and latest) per result, in the same process against
 * the same server (which runs in its own process, so its CPU is not counted). Users are unchanged
 * since their last check, the sweep's everyday case; batches of 100 as Gong answers them.
 */
const USERS = 1_000;
const BATCH = 100;
const RUNS = 3;

function result(email: string, checkedAt: string): UserResult {
  return { email, exists: true, valid: true, status: 'OK', checkedAt, gongRequestId: 'bench' };
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function main(): Promise<void> {
  const local = await startLocalTable('storage-cpu-bench');
  try {
    const { db, table } = local;
    const store = createHistoryStore({ db, table });
    const emails = Array.from({ length: USERS }, (_, i) => `bench${String(i).padStart(5, '0')}@example.com`);
    const seedAt = new Date(Date.now() - 60_000).toISOString();
    await store.record(
      emails.map((email) => result(email, seedAt)),
      { source: 'seed', requestId: 'seed', previous: new Map() },
    );

    const rows: { store: number; floor: number }[] = [];
    // Run 0 warms both paths (the SDK's first requests pay for lazy loading) and is not counted.
    for (let run = 0; run <= RUNS; run++) {
      const checkedAt = new Date(Date.now() + run).toISOString();
      const previous = await store.getLatestMany(emails);
      let storeCpu = 0;
      for (let i = 0; i < USERS; i += BATCH) {
        const batch = emails.slice(i, i + BATCH).map((email) => result(email, checkedAt));
        const start = process.cpuUsage();
        const unstored = await store.record(batch, { source: 'sweep', requestId: `run${run}`, previous });
        storeCpu += cpuMs(start);
        if (unstored.size > 0) throw new Error(`bench: ${unstored.size} results not stored`);
      }

      let floorCpu = 0;
      const floorAt = new Date(Date.now() + 10 + run).toISOString();
      for (let i = 0; i < USERS; i += BATCH) {
        const items = emails.slice(i, i + BATCH).flatMap((email) => {
          const stored = { ...result(email, floorAt), source: 'sweep', requestId: `floor${run}` };
          return [
            { ...stored, ...historyKey(email, floorAt, `floor${run}`), expiresAt: 0 },
            {
              ...stored,
              ...latestKey(email),
              since: seedAt,
              gsi1pk: statusPartition('OK'),
              gsi1sk: statusSortKey(seedAt, email),
            },
          ];
        });
        const start = process.cpuUsage();
        const chunks: Record<string, unknown>[][] = [];
        for (let j = 0; j < items.length; j += 25) chunks.push(items.slice(j, j + 25));
        await Promise.all(
          chunks.map(async (chunk) => {
            let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
            while (pending.length > 0) {
              const out = await db.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
              pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
            }
          }),
        );
        floorCpu += cpuMs(start);
      }
      // The floor overwrote the latest items unconditionally (versions and all): seed them afresh.
      await store.record(
        emails.map((email) => result(email, new Date(Date.now() + 20 + run).toISOString())),
        { source: 'seed', requestId: `reseed${run}`, previous: new Map() },
      );
      if (run === 0) continue;
      rows.push({ store: storeCpu / USERS, floor: floorCpu / USERS });
      const last = rows.at(-1) as { store: number; floor: number };
      console.log(
        `run ${run}: store ${last.store.toFixed(3)} ms CPU/result, BatchWriteItem floor ${last.floor.toFixed(3)} ms CPU/result, ratio ${(last.store / last.floor).toFixed(2)}×`,
      );
    }
    const stats = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return `min ${sorted[0]?.toFixed(3)} / median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(3)} / max ${sorted.at(-1)?.toFixed(3)}`;
    };
    console.log(`store (ms CPU/result):  ${stats(rows.map((row) => row.store))}`);
    console.log(`floor (ms CPU/result):  ${stats(rows.map((row) => row.floor))}`);
    console.log(`ratio:                  ${stats(rows.map((row) => row.store / row.floor))}`);
  } finally {
    await local.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
