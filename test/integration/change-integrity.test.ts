import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckReport, UserStatus } from '#lib/check/report.ts';
import { createChangeLog } from '#lib/history/change-log.ts';
import type { SweepAnswer } from '#lib/sweep/sweep.ts';
import { createSweepStore } from '#lib/sweep/sweep-store.ts';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '#local/dynamodb-fault-proxy.ts';
import { CALENDAR_PROBLEM } from '#local/gong-sandbox/users.ts';
import { DEFAULT_BOT_TOKEN, type SlackApiStandIn, startSlackApi } from '#local/slack-api.ts';
import { type LambdaInvokeStandIn, startLambdaInvoke } from '../support/lambda-invoke.ts';
import { DYNAMO_ENGINE, httpEvent, loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type Sweep = (
  event: unknown,
  context?: { awsRequestId?: string; timeoutMs?: number },
) => Promise<SweepAnswer>;
type CheckStatus = (event: unknown) => Promise<CheckReport>;
type Api = (event: unknown) => Promise<{ statusCode: number; body?: string }>;

const ALERT_CHANNEL = 'C0ALERTS';
const OK_USER = { exists: true, valid: true } as const;
const BROKEN_USER = { exists: true, valid: false, ...CALENDAR_PROBLEM } as const;
const GONE_USER = { exists: false, valid: false } as const;

function gongUser(status: UserStatus) {
  return status === 'OK' ? OK_USER : status === 'INVALID' ? BROKEN_USER : GONE_USER;
}

/** A deterministic pseudo-random sequence, so a failing run can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe(`change integrity (built bundles, ${DYNAMO_ENGINE} behind the fault proxy)`, () => {
  let stack: TestStack;
  let proxy: DynamoFaultProxy;
  let slack: SlackApiStandIn;
  let lambda: LambdaInvokeStandIn;
  let env: Record<string, string>;

  const loadSweep = () => loadHandler('sweep', env) as Sweep;

  beforeEach(async () => {
    stack = await startTestStack({ gong: { rps: 500, burst: 500 } });
    proxy = await startDynamoFaultProxy({ upstream: stack.dynamo.endpoint, seed: 7 });
    slack = await startSlackApi();
    lambda = await startLambdaInvoke({ 'gong-status-test-sweep': (event) => loadSweep()(event) });
    env = {
      ...stack.env,
      AWS_ENDPOINT_URL_DYNAMODB: proxy.url,
      ALERT_CHANNEL,
      SLACK_BOT_TOKEN: DEFAULT_BOT_TOKEN,
      SLACK_API_URL: slack.url,
      SWEEP_FUNCTION: 'gong-status-test-sweep',
      AWS_ENDPOINT_URL_LAMBDA: lambda.url,
      GONG_MAX_RPS: '200',
    };
  });

  afterEach(async () => {
    await lambda?.settled();
    await Promise.all([lambda?.close(), slack?.close(), proxy?.close(), stack?.stop()]);
  });

  const digests = () =>
    slack.calls.filter((call) => call.method === 'chat.postMessage' && call.body.channel === ALERT_CHANNEL);

  it('tells every change in exactly one digest through checkStatus, the api and the sweep, with faults on and then off', async () => {
    const emails = Array.from({ length: 40 }, (_, i) => `person${String(i).padStart(2, '0')}@example.com`);
    const truth = new Map<string, UserStatus>(emails.map((email) => [email, 'OK']));
    const checkStatus = loadHandler('checkStatus', env) as CheckStatus;
    const api = loadHandler('api', env) as Api;
    expect((await checkStatus({ emails })).results.every((result) => result.stored !== false)).toBe(true);

    const next = random(11);
    const sweeps = createSweepStore({ db: stack.db, table: stack.table });
    const sweepIds: string[] = [];
    const runSweep = async (requestId: string) => {
      sweepIds.push(requestId);
      const sweep = loadSweep();
      // Lambda retries a failed async invocation with the same request id.
      for (let attempt = 0; attempt < 8; attempt++) {
        try {
          await sweep({}, { awsRequestId: requestId });
          await lambda.settled();
          if ((await sweeps.loadRun(requestId))?.phase === 'done') return;
        } catch {
          // A fault past the SDK's retries: the invocation failed, as it would in Lambda.
        }
      }
      throw new Error('sweep kept failing');
    };

    const faults = [
      { kind: 'error500', probability: 0.08 },
      { kind: 'throttle', probability: 0.08 },
      { kind: 'dropAfterApply', probability: 0.08 },
    ] as const;
    for (let round = 0; round < 6; round++) {
      if (round < 4) proxy.setFaults(faults);
      else proxy.clearFaults();
      // A dozen users change in Gong each round; some of them several times over the rounds.
      const changing = emails.filter(() => next() < 0.3);
      for (const email of changing) {
        const status: UserStatus =
          truth.get(email) === 'OK' ? (next() < 0.7 ? 'INVALID' : 'NOT_IN_GONG') : 'OK';
        truth.set(email, status);
        stack.gong.setUser({ email, ...gongUser(status) });
      }
      const door = round % 3;
      const half = changing.filter((_, i) => i % 2 === 0);
      try {
        if (door === 0) await checkStatus({ emails: [...half, ...emails.slice(0, 5)] });
        if (door === 1)
          await api(httpEvent('POST', '/v1/checks', { body: JSON.stringify({ emails: half }) }));
      } catch {
        // A door that failed answered its caller with an error; nothing it stored may be lost.
      }
      await runSweep(`sweep-${round}`);
    }
    proxy.clearFaults();
    await runSweep('final-sweep');

    // Every change told, per user, in the order of the digests (each sweep's digest pages are what it posted).
    const reported = new Map<string, ('broke' | 'fixed')[]>();
    let postedDigests = 0;
    for (const id of sweepIds) {
      const run = await sweeps.loadRun(id);
      expect(run?.phase).toBe('done');
      const pages = await sweeps.loadDigestPages(id);
      const broke = pages.flatMap((page) => page.broke.map((event) => event.email));
      const fixed = pages.flatMap((page) => page.fixed.map((event) => event.email));
      if (broke.length + fixed.length > 0) postedDigests += 1;
      for (const email of broke) reported.set(email, [...(reported.get(email) ?? []), 'broke']);
      for (const email of fixed) reported.set(email, [...(reported.get(email) ?? []), 'fixed']);
    }
    let lost = 0;
    let duplicated = 0;
    let invented = 0;
    let told = 0;
    for (const email of emails) {
      const kinds = reported.get(email) ?? [];
      told += kinds.length;
      // Everyone started OK: the first change told must be a break, and each one after the opposite
      // of the one before (the same kind twice is a change told twice).
      if (kinds[0] === 'fixed') invented += 1;
      for (let i = 1; i < kinds.length; i++) if (kinds[i] === kinds[i - 1]) duplicated += 1;
      const toldOk = kinds.length === 0 || kinds.at(-1) === 'fixed';
      if (toldOk !== (truth.get(email) === 'OK')) lost += 1;
    }
    const pending = await createChangeLog({ db: stack.db, table: stack.table }).listPending();
    const stats = proxy.stats();
    console.log(
      `change integrity (${DYNAMO_ENGINE}): users ${emails.length}, changed in the end ${
        emails.filter((email) => truth.get(email) !== 'OK').length
      }, changes told ${told}, digests ${digests().length}, lost ${lost}, duplicated ${duplicated}, invented ${invented}, still pending ${pending.length}; faults ${JSON.stringify(stats.faults)}`,
    );
    expect(stats.faults.error500 + stats.faults.throttle + stats.faults.dropAfterApply).toBeGreaterThan(10);
    expect(told).toBeGreaterThan(10);
    expect({ lost, duplicated, invented, pending: pending.length }).toEqual({
      lost: 0,
      duplicated: 0,
      invented: 0,
      pending: 0,
    });
    // One Slack post per digest: as many as sweeps that named anyone.
    expect(digests().length).toBe(postedDigests);
  }, 240_000);

  it('keeps the last answer when two checks of one OK user overlap, and reports nobody broken', async () => {
    const email = 'overlap@example.com';
    const checkStatus = loadHandler('checkStatus', env) as CheckStatus;
    await checkStatus({ emails: [email] });
    // The first call Gong takes answers INVALID at once; the second answers OK later.
    stack.gong.scriptUser(email, [
      { user: BROKEN_USER, delayMs: 50 },
      { user: OK_USER, delayMs: 700 },
    ]);
    const [a, b] = await Promise.all([checkStatus({ emails: [email] }), checkStatus({ emails: [email] })]);
    const answers = [a, b]
      .map((report) => report.results[0])
      .sort((x, y) => String(x?.checkedAt).localeCompare(String(y?.checkedAt)));
    expect(answers.map((result) => result?.status)).toEqual(['INVALID', 'OK']);

    const api = loadHandler('api', env) as Api;
    const latest = await api(httpEvent('GET', `/v1/users/${encodeURIComponent(email)}`));
    expect(JSON.parse(String(latest.body))).toMatchObject({ status: 'OK', checkedAt: answers[1]?.checkedAt });
    const answer = await loadSweep()({});
    expect(answer.broke).not.toContain(email);
    expect(digests().every((post) => !JSON.stringify(post.body).includes(email))).toBe(true);
  }, 60_000);

  it('makes one sweep of two concurrent invocations with the same event and request id', async () => {
    const emails = Array.from({ length: 120 }, (_, i) => `dup${String(i).padStart(3, '0')}@example.com`);
    await (loadHandler('checkStatus', env) as CheckStatus)({ emails });
    stack.gong.setUser({ email: 'dup000@example.com', ...BROKEN_USER });
    stack.gong.resetStats();

    const answers = await Promise.all([
      loadSweep()({}, { awsRequestId: 'one-event' }),
      loadSweep()({}, { awsRequestId: 'one-event' }),
    ]);
    // And the same event once more after it finished.
    const again = await loadSweep()({}, { awsRequestId: 'one-event' });

    expect(answers.map((answer) => answer.checked).sort((x, y) => x - y)).toEqual([0, 120]);
    expect(again.checked).toBe(0);
    expect(stack.gong.stats.emailsPerCall.reduce((sum, n) => sum + n, 0)).toBe(120);
    expect(digests()).toHaveLength(1);
  }, 60_000);
});
