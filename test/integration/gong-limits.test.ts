import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport, UserResult } from '#lib/check/report.ts';
import { createPendingStore } from '#lib/crm/pending-store.ts';
import type { RecheckSummary } from '#lib/crm/recheck-pending.ts';
import { createHistoryStore } from '#lib/history/history-store.ts';
import type { SweepAnswer } from '#lib/sweep/sweep.ts';
import { gapsBetween, type SandboxProcess, spawnGongSandbox } from '#local/gong-sandbox/process.ts';
import { DEFAULT_BOT_TOKEN, startSlackApi } from '#local/slack-api.ts';
import { ensureTable } from '#local/table.ts';
import { startLambdaInvoke } from '../support/lambda-invoke.ts';
import { linesPrinted } from '../support/printed.ts';
import { httpEvent, type LocalTable, loadHandler, startLocalTable } from '../support/stack.ts';

type CheckStatus = (event: unknown, context?: { timeoutMs?: number }) => Promise<CheckReport>;
type Sweep = (
  event: unknown,
  context?: { awsRequestId?: string; timeoutMs?: number },
) => Promise<SweepAnswer>;

const emails = (calls: number, prefix: string) =>
  Array.from({ length: calls * 100 }, (_, i) => `${prefix}${i}@example.com`);

// Gong's limit as the stand-in plays it: a token bucket of the ceiling with a burst of 2, in its own
// process (its arrival stamps are Gong's view); the built bundles are loaded once per "container".
describe("Gong's limits (built bundles, a sandbox in its own process, dynalite)", () => {
  let local: LocalTable;
  let client: DynamoDBClient;
  let sandbox: SandboxProcess | undefined;
  let tables = 0;

  beforeAll(async () => {
    local = await startLocalTable('gong-limits-0');
    client = new DynamoDBClient({
      endpoint: local.dynamo.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });
  afterAll(async () => {
    await sandbox?.stop();
    // The run's server outlives this file (test/support/stack.ts): leave none of its tables there.
    for (let n = 1; n <= tables; n++)
      await client?.send(new DeleteTableCommand({ TableName: `gong-limits-${n}` }));
    client?.destroy();
    await local?.stop();
  });

  /** A fresh table (slots, pause and budget of its own) and a sandbox at `rps`. */
  async function deployment(rps: number, extra: Record<string, string> = {}) {
    await sandbox?.stop();
    sandbox = await spawnGongSandbox({ rps, burst: 2 });
    const table = `gong-limits-${++tables}`;
    await ensureTable(client, table);
    const env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: local.dynamo.endpoint,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      HISTORY_TABLE: table,
      GONG_ACCESS_KEY: 'sandbox-key',
      GONG_ACCESS_KEY_SECRET: 'sandbox-secret',
      GONG_BASE_URL: sandbox.url,
      GONG_MAX_RPS: String(rps),
      ...extra,
    };
    return { sandbox, table, env, load: <F>(name: string) => loadHandler(name, env) as F };
  }

  async function bulkCheck(rps: number, containers: number, callsEach: number) {
    const { sandbox, load } = await deployment(rps);
    const handlers = Array.from({ length: containers }, () => load<CheckStatus>('checkStatus'));
    const reports = await Promise.all(
      handlers.map((check, i) => check({ emails: emails(callsEach, `c${i}-`) }, { timeoutMs: 60_000 })),
    );
    const stats = await sandbox.stats();
    return { reports, stats, gaps: gapsBetween(stats.arrivals), intervalMs: 1000 / rps };
  }

  for (const rps of [3, 10]) {
    for (const containers of [1, 2]) {
      const callsEach = Math.round((rps * 2) / containers);
      it(`keeps every gap ≥ 0.8 × the interval with no 429 at ${rps} calls/s, ${containers} container(s)`, {
        timeout: 90_000,
      }, async () => {
        const { reports, stats, gaps, intervalMs } = await bulkCheck(rps, containers, callsEach);

        expect(stats.byStatus['429'] ?? 0).toBe(0);
        expect(stats.calls).toBe(containers * callsEach);
        expect(Math.min(...gaps)).toBeGreaterThanOrEqual(0.8 * intervalMs);
        for (const report of reports) {
          expect(report.failures).toEqual([]);
          expect(report.results).toHaveLength(callsEach * 100);
        }
      });
    }
  }

  it("stops every container for a 429's Retry-After, not only the one that got it", {
    timeout: 90_000,
  }, async () => {
    const { sandbox, load } = await deployment(10);
    await sandbox.injectFault({ kind: 'status', status: 429, retryAfterSeconds: 2 });
    const [a, b] = [load<CheckStatus>('checkStatus'), load<CheckStatus>('checkStatus')];

    const reports = await Promise.all([
      a({ emails: emails(8, 'a-') }, { timeoutMs: 60_000 }),
      b({ emails: emails(8, 'b-') }, { timeoutMs: 60_000 }),
    ]);

    const { arrivals } = await sandbox.stats();
    const limited = arrivals.filter((arrival) => arrival.status === 429);
    expect(limited).toHaveLength(1);
    const pausedAt = limited[0]?.at ?? 0;
    // From anyone, both containers: none within the 2 s (less 50 ms, as the sandbox's clock and the
    // containers' are two processes' readings of the wall clock).
    const during = arrivals.filter((arrival) => arrival.at > pausedAt && arrival.at < pausedAt + 1_950);
    expect(during).toEqual([]);
    // Both containers' calls went through after the pause, the limited batch retried among them.
    expect(arrivals.filter((arrival) => arrival.status === 200)).toHaveLength(16);
    expect(reports.flatMap((report) => report.failures)).toEqual([]);
  });

  it('stops background work at 80% of GONG_DAILY_BUDGET and gives people the rest, then GONG_BUDGET_SPENT', {
    timeout: 90_000,
  }, async () => {
    const { sandbox, table, load } = await deployment(20, { GONG_DAILY_BUDGET: '10' });
    // 1,200 pending users Gong does not know: 12 re-check calls if nothing stopped them.
    const pending = createPendingStore({ db: local.db, table });
    await pending.add(emails(12, 'unknown-'), { source: 'crm', at: new Date(Date.now() - 3_600_000) });
    const recheck =
      load<(event: unknown, context?: { timeoutMs?: number }) => Promise<RecheckSummary>>('recheckPending');

    const summary = await recheck({}, { timeoutMs: 60_000 });

    expect((await sandbox.stats()).calls).toBe(8);
    expect(summary.done).toBe(false);
    expect(summary.checked).toBe(800);
    expect(summary.budgetSpent).toMatch(/80% of today's budget \(8 of GONG_DAILY_BUDGET=10\)/);

    // A person's checks (another container) still get calls 9 and 10.
    const checkStatus = load<CheckStatus>('checkStatus');
    for (const email of ['ada@example.com', 'margaret@example.com']) {
      const report = await checkStatus({ emails: [email] });
      expect(report.results.map((result) => result.email)).toEqual([email]);
    }
    expect((await sandbox.stats()).calls).toBe(10);

    // The 11th fails, at every door: the report's failure, and the API's 503 with the renewal.
    const report = await checkStatus({ emails: ['grace@example.com'] });
    expect(report.failures).toMatchObject([{ code: 'GONG_BUDGET_SPENT' }]);
    const api =
      load<(event: unknown) => Promise<{ statusCode: number; headers?: Record<string, string> }>>('api');
    const answer = await api(
      httpEvent('POST', '/v1/checks', {
        body: JSON.stringify({ emails: ['grace@example.com'] }),
        // An admin as API Gateway passes it on: the budget refuses people too once it is spent.
        claims: { sub: 'admin', scope: 'gong-status/admin' },
      }),
    );
    expect(answer.statusCode).toBe(503);
    const untilMidnight = (Date.UTC(...utcTomorrow()) - Date.now()) / 1000;
    expect(Number(answer.headers?.['retry-after'])).toBeGreaterThan(untilMidnight - 60);
    expect(Number(answer.headers?.['retry-after'])).toBeLessThanOrEqual(untilMidnight + 1);
    expect((await sandbox.stats()).calls).toBe(10);
  });
  it('stops the sweep cleanly at 80% of GONG_DAILY_BUDGET, gives people the rest, then GONG_BUDGET_SPENT', {
    timeout: 90_000,
  }, async () => {
    const slack = await startSlackApi();
    // A sweep that stops must not hand off: the stand-in records any self-invoke it would make.
    const lambda = await startLambdaInvoke({
      'gong-status-test-sweep': () => Promise.reject(new Error('the sweep handed off instead of stopping')),
    });
    try {
      const { sandbox, table, load } = await deployment(20, {
        GONG_DAILY_BUDGET: '10',
        ALERT_CHANNEL: 'C0ALERTS',
        SLACK_BOT_TOKEN: DEFAULT_BOT_TOKEN,
        SLACK_API_URL: slack.url,
        SWEEP_FUNCTION: 'gong-status-test-sweep',
        AWS_ENDPOINT_URL_LAMBDA: lambda.url,
        POWERTOOLS_LOG_LEVEL: 'WARN',
      });
      // 1,200 known users Gong has no calls for: 12 sweep calls if nothing stopped them.
      const history = createHistoryStore({ db: local.db, table, retentionDays: 400 });
      const checkedAt = new Date(Date.now() - 3_600_000).toISOString();
      const seeded: UserResult[] = emails(12, 'sweep-budget-').map((email) => ({
        email,
        exists: true,
        valid: true,
        status: 'OK',
        checkedAt,
        gongRequestId: 'seed',
      }));
      const unstored = await history.record(seeded, {
        source: 'seed',
        requestId: 'seed',
        previous: new Map(),
      });
      expect(unstored.size).toBe(0);

      const sweep = load<Sweep>('sweep');
      // Powertools writes warnings to stderr (console.warn).
      const { result: answer, lines: logged } = await linesPrinted(process.stderr, () =>
        sweep({}, { awsRequestId: 'budget-sweep', timeoutMs: 60_000 }),
      );

      expect((await sandbox.stats()).calls).toBe(8);
      expect(answer).toMatchObject({ done: true, stopped: 'GONG_BUDGET_SPENT', checked: 800 });
      // It says why, in its answer and its logs: background work's 80%, not the whole budget.
      expect(answer.reason).toMatch(/stopped at 80% of today's budget \(8 of GONG_DAILY_BUDGET=10\)/);
      const warnings = logged
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level?: string; message?: string })
        .filter((entry) => entry.level === 'WARN');
      expect(warnings.map((entry) => entry.message)).toContainEqual(
        expect.stringMatching(/stopped at 80% of today's budget/),
      );
      expect(warnings.map((entry) => entry.message)).not.toContainEqual(
        expect.stringMatching(/budget is spent/),
      );
      expect(lambda.invocations).toEqual([]);

      // Another sweep the same day finds background work's share spent before its first call.
      const again = await load<Sweep>('sweep')({}, { awsRequestId: 'budget-sweep-again', timeoutMs: 60_000 });
      expect(again).toMatchObject({ done: true, stopped: 'GONG_BUDGET_SPENT', checked: 0 });
      expect((await sandbox.stats()).calls).toBe(8);
      expect(lambda.invocations).toEqual([]);

      // A person's checks (another container) still get calls 9 and 10.
      const checkStatus = load<CheckStatus>('checkStatus');
      for (const email of ['ada@example.com', 'margaret@example.com']) {
        const report = await checkStatus({ emails: [email] });
        expect(report.failures).toEqual([]);
        expect(report.results.map((result) => result.email)).toEqual([email]);
      }
      expect((await sandbox.stats()).calls).toBe(10);

      // The 11th is refused with the wait until the budget renews at the next UTC midnight.
      const report = await checkStatus({ emails: ['grace@example.com'] });
      expect(report.results).toEqual([]);
      expect(report.failures).toMatchObject([{ code: 'GONG_BUDGET_SPENT' }]);
      const untilMidnight = (Date.UTC(...utcTomorrow()) - Date.now()) / 1000;
      const retryAfter = report.failures[0]?.retryAfterSeconds;
      expect(retryAfter).toBeGreaterThan(untilMidnight - 60);
      expect(retryAfter).toBeLessThanOrEqual(untilMidnight + 1);
      expect((await sandbox.stats()).calls).toBe(10);
    } finally {
      await lambda.settled();
      await Promise.all([lambda.close(), slack.close()]);
    }
  });
});

function utcTomorrow(): [number, number, number] {
  const now = new Date();
  return [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1];
}
