import type { CheckReport } from '#lib/check/report.ts';
// The suite's one way to load a built bundle as a fresh container (see bulk-check.ts).
import { loadHandler } from '../test/support/stack.ts';

/** What the bench needs of one container's check, small enough to pass back over IPC. */
export interface ContainerFigures {
  checkedAt: string;
  lastAnswer: number;
  changes: number;
  failures: number;
  /** CPU this container's process spent on the check (user + system, ms). */
  cpuMs: number;
}

type CheckStatus = (event: unknown, context?: { timeoutMs?: number }) => Promise<CheckReport>;

// One Lambda container of the bench, in a process of its own: its CPU, event loop and timers are
// its own, as in AWS, instead of sharing one event loop with the other container it is measured
// beside. Told the environment and its emails, it loads the checkStatus bundle, says so, and
// checks when told to go.
process.once('message', (setup: { env: Record<string, string>; emails: string[] }) => {
  const check = loadHandler('checkStatus', setup.env) as CheckStatus;
  process.once('message', async () => {
    const cpuBefore = process.cpuUsage();
    const report = await check({ emails: setup.emails, source: 'bench' }, { timeoutMs: 300_000 });
    const cpu = process.cpuUsage(cpuBefore);
    const figures: ContainerFigures = {
      checkedAt: report.checkedAt,
      lastAnswer: Math.max(...report.results.map((result) => Date.parse(result.checkedAt))),
      changes: report.results.filter((result) => result.changed).length,
      failures: report.failures.length,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    process.send?.(figures, () => process.exit(0));
  });
  process.send?.('ready');
});
