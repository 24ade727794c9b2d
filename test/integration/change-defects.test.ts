// The storage defects the outbox fixed, each replayed through the built handlers with one fault in
// front of the real DynamoDB server: none of these may lose, invent or repeat a change.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckReport } from '#lib/check/report.ts';
import type { SweepAnswer } from '#lib/sweep/sweep.ts';
import { type DynamoFaultProxy, startDynamoFaultProxy } from '#local/dynamodb-fault-proxy.ts';
import { CALENDAR_PROBLEM } from '#local/gong-sandbox/users.ts';
import { DEFAULT_BOT_TOKEN, type SlackApiStandIn, startSlackApi } from '#local/slack-api.ts';
import { type LambdaInvokeStandIn, startLambdaInvoke } from '../support/lambda-invoke.ts';
import { loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type Sweep = (
  event: unknown,
  context?: { awsRequestId?: string; timeoutMs?: number },
) => Promise<SweepAnswer>;
type CheckStatus = (event: unknown) => Promise<CheckReport>;
const ALERT_CHANNEL = 'C0ALERTS';
const OK_USER = { exists: true, valid: true } as const;
const BROKEN_USER = { exists: true, valid: false, ...CALENDAR_PROBLEM } as const;

describe('changes survive single storage faults and very large digests (built bundles, fault proxy)', () => {
  let stack: TestStack;
  let proxy: DynamoFaultProxy;
  let slack: SlackApiStandIn;
  let lambda: LambdaInvokeStandIn;
  let env: Record<string, string>;
  const loadSweep = () => loadHandler('sweep', env) as Sweep;
  const digests = () =>
    slack.calls.filter((call) => call.method === 'chat.postMessage' && call.body.channel === ALERT_CHANNEL);

  beforeEach(async () => {
    stack = await startTestStack({ gong: { rps: 1000, burst: 1000 } });
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
      GONG_MAX_RPS: '500',
    };
  });
  afterEach(async () => {
    await lambda?.settled();
    await Promise.all([lambda?.close(), slack?.close(), proxy?.close(), stack?.stop()]);
  });

  for (const [name, fault] of [
    [
      'the second write fails (BatchWriteItem 500s past the SDK retries)',
      { kind: 'error500', operations: ['BatchWriteItem'], count: 100 },
    ],
    // The first PutItem of a check is the Gong pacer's slot (lib/gong/pacer.ts), the second the latest write.
    [
      'the latest write is applied but its answer is dropped',
      { kind: 'dropAfterApply', operations: ['PutItem'], count: 2 },
    ],
  ] as const) {
    it(`tells a break in exactly one digest when ${name}`, async () => {
      const email = 'fragile@example.com';
      const checkStatus = loadHandler('checkStatus', env) as CheckStatus;
      stack.gong.setUser({ email, ...OK_USER });
      await checkStatus({ emails: [email] });
      stack.gong.setUser({ email, ...BROKEN_USER });
      proxy.setFaults([fault]);
      // The door may answer stored: false or fail; either way the break must still be told.
      await checkStatus({ emails: [email] }).catch(() => undefined);
      proxy.clearFaults();
      const answer = await loadSweep()({}, { awsRequestId: 'after-fault', timeoutMs: 120_000 });
      const named = digests().filter((post) => JSON.stringify(post.body).includes(email)).length;
      expect(answer.broke).toEqual([email]);
      expect(named).toBe(1);
    }, 120_000);
  }

  it('posts one digest and answers every name when 1,800 long emails break (past 400 KB of names)', async () => {
    const pad = (n: number) => String(n).padStart(5, '0');
    const domain = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.example.com`;
    const emails = Array.from(
      { length: 1_800 },
      (_, i) => `digest-proof-${pad(i)}-${'x'.repeat(36)}@${domain}`,
    );
    const checkStatus = loadHandler('checkStatus', env) as CheckStatus;
    for (const email of emails) stack.gong.setUser({ email, ...OK_USER });
    for (let i = 0; i < emails.length; i += 300) await checkStatus({ emails: emails.slice(i, i + 300) });
    for (const email of emails) stack.gong.setUser({ email, ...BROKEN_USER });
    const bytes = emails.reduce((sum, email) => sum + email.length, 0);
    const attempts: string[] = [];
    let answer: SweepAnswer | undefined;
    // Lambda retries a failed async invocation with the same request id.
    for (let attempt = 0; attempt < 3 && !answer; attempt++) {
      try {
        answer = await loadSweep()({}, { awsRequestId: 'big-digest', timeoutMs: 300_000 });
        await lambda.settled();
        attempts.push(`ok: checked ${answer.checked}, broke ${answer.broke.length}, done ${answer.done}`);
      } catch (error) {
        attempts.push(`threw ${(error as Error).name}: ${(error as Error).message}`);
      }
    }
    expect(bytes).toBeGreaterThan(400 * 1024);
    expect(attempts[0]).toMatch(/^ok/);
    expect(answer?.broke).toHaveLength(emails.length);
    expect(digests()).toHaveLength(1);
  }, 600_000);
});
