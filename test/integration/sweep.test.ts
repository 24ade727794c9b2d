import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserResult, UserStatus } from '#lib/check/report.ts';
import { createHistoryStore, type LatestResult } from '#lib/history/history-store.ts';
import type { SweepAnswer } from '#lib/sweep/sweep.ts';
import { DEFAULT_BOT_TOKEN, type SlackApiStandIn, startSlackApi } from '#local/slack-api.ts';
import { type LambdaInvokeStandIn, startLambdaInvoke } from '../support/lambda-invoke.ts';
import { loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

type Sweep = (event: unknown, context?: { timeoutMs?: number }) => Promise<SweepAnswer>;

const ALERT_CHANNEL = 'C0ALERTS';
const FIX_URL = 'https://us-12345.app.gong.io/settings/personal/calendar';
const BROKEN = {
  exists: true,
  valid: false,
  userFacingError: 'No calls are imported to Gong because you have not connected your calendar.',
  fixUrl: FIX_URL,
};
const DAY_MS = 86_400_000;

interface Seed {
  email: string;
  status?: UserStatus;
  checkedAt?: string;
}

/** Stores a result per user as an earlier check would have: the sweep's "known users". */
async function seed(stack: TestStack, users: Seed[]): Promise<void> {
  const store = createHistoryStore({
    db: stack.db,
    table: stack.table,
    onWriteError: (error) => console.error('seed write failed:', error),
  });
  const checkedAt = new Date(Date.now() - 60_000).toISOString();
  const results: UserResult[] = users.map((user) => {
    const status = user.status ?? 'OK';
    return {
      email: user.email,
      exists: status !== 'NOT_IN_GONG',
      valid: status === 'OK',
      status,
      checkedAt: user.checkedAt ?? checkedAt,
      gongRequestId: 'seed',
      ...(status === 'INVALID' ? { userFacingError: BROKEN.userFacingError, fixUrl: FIX_URL } : {}),
    };
  });
  const unstored = await store.record(results, { source: 'seed', requestId: 'seed', previous: new Map() });
  expect(unstored.size).toBe(0);
}

const reps = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ email: `rep${String(i).padStart(3, '0')}@example.com` }));

/** The history items the sweep wrote for a user. */
async function sweepChecks(stack: TestStack, email: string): Promise<number> {
  const out = await stack.db.send(
    new QueryCommand({
      TableName: stack.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :check)',
      FilterExpression: '#source = :sweep',
      ExpressionAttributeNames: { '#source': 'source' },
      ExpressionAttributeValues: { ':pk': `USER#${email}`, ':check': 'CHECK#', ':sweep': 'sweep' },
    }),
  );
  return out.Items?.length ?? 0;
}

function posts(slack: SlackApiStandIn, channel: string) {
  return slack.calls.filter((call) => call.method === 'chat.postMessage' && call.body.channel === channel);
}

/** Every text in a message's blocks, for asserting what a reader sees. */
function blockText(body: Record<string, unknown>): string {
  return JSON.stringify(body.blocks);
}

describe('sweep (built bundle, loopback Gong, DynamoDB, Slack and Lambda)', () => {
  let stack: TestStack;
  let slack: SlackApiStandIn;
  let lambda: LambdaInvokeStandIn;
  let env: Record<string, string>;
  // What the Lambda stand-in runs for a self-invoke; a test can shrink its time budget.
  let continuationTimeoutMs = 30_000;

  const load = (extra: Record<string, string> = {}) => loadHandler('sweep', { ...env, ...extra }) as Sweep;

  beforeEach(async () => {
    continuationTimeoutMs = 30_000;
    stack = await startTestStack({ gong: { rps: 200, burst: 200 } });
    slack = await startSlackApi();
    // Each self-invoke lands in a fresh container: the bundle is loaded anew, as Lambda would.
    lambda = await startLambdaInvoke({
      'gong-status-test-sweep': (event) => load()(event, { timeoutMs: continuationTimeoutMs }),
    });
    env = {
      ...stack.env,
      ALERT_CHANNEL,
      SLACK_BOT_TOKEN: DEFAULT_BOT_TOKEN,
      SLACK_API_URL: slack.url,
      SWEEP_FUNCTION: 'gong-status-test-sweep',
      AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    };
  });

  afterEach(async () => {
    await lambda?.settled();
    await Promise.all([lambda?.close(), slack?.close(), stack?.stop()]);
  });

  it('checks 250 stored users in 3 Gong calls and writes history for every one', async () => {
    const users = reps(250);
    await seed(stack, users);

    const answer = await load()({});

    expect(answer).toEqual({ checked: 250, broke: [], fixed: [], done: true });
    expect(stack.gong.stats.calls).toBe(3);
    expect(stack.gong.stats.emailsPerCall.reduce((sum, n) => sum + n, 0)).toBe(250);
    const written = await Promise.all(users.map((user) => sweepChecks(stack, user.email)));
    expect(written.every((count) => count === 1)).toBe(true);
    expect(posts(slack, ALERT_CHANNEL)).toHaveLength(0);
    expect(lambda.invocations).toHaveLength(0);
  });

  it('posts one digest naming a user who broke, then one naming them fixed, then nothing', async () => {
    await seed(stack, [...reps(20), { email: 'grace@example.com', status: 'INVALID' }]);
    const sweep = load();
    const flipped = 'rep007@example.com';

    const quiet = await sweep({});
    stack.gong.setUser({ email: flipped, ...BROKEN });
    const broke = await sweep({});
    const afterBreak = posts(slack, ALERT_CHANNEL);
    stack.gong.setUser({ email: flipped, exists: true, valid: true });
    const fixed = await sweep({});
    const afterFix = posts(slack, ALERT_CHANNEL);
    const again = await sweep({});

    expect(quiet).toMatchObject({ checked: 21, broke: [], fixed: [] });
    expect(broke).toEqual({ checked: 21, broke: [flipped], fixed: [], done: true });
    expect(afterBreak).toHaveLength(1);
    const digest = afterBreak[0]?.body ?? {};
    expect(blockText(digest).split(flipped)).toHaveLength(2);
    expect(blockText(digest)).toContain(BROKEN.userFacingError);
    expect(digest.blocks).toContainEqual(
      expect.objectContaining({
        type: 'section',
        accessory: expect.objectContaining({ type: 'button', url: FIX_URL }),
      }),
    );
    expect(blockText(digest)).toContain('2 still broken');
    expect(String(digest.text)).toContain(flipped);

    expect(fixed).toEqual({ checked: 21, broke: [], fixed: [flipped], done: true });
    expect(afterFix).toHaveLength(2);
    const fixDigest = afterFix[1]?.body ?? {};
    expect(blockText(fixDigest)).toMatch(/Fixed:.*rep007@example\.com/);
    expect(blockText(fixDigest)).toContain('1 still broken');

    expect(again).toEqual({ checked: 21, broke: [], fixed: [], done: true });
    expect(posts(slack, ALERT_CHANNEL)).toHaveLength(2);
  });

  it('includes in its digest a user who broke through another door since the last sweep', async () => {
    await seed(stack, reps(5));
    const sweep = load();
    await sweep({});
    const checkStatus = loadHandler('checkStatus', env) as (event: unknown) => Promise<unknown>;
    stack.gong.setUser({ email: 'rep003@example.com', ...BROKEN });
    await checkStatus({ emails: ['rep003@example.com'] });

    const answer = await load()({});

    expect(answer.broke).toEqual(['rep003@example.com']);
    expect(posts(slack, ALERT_CHANNEL)).toHaveLength(1);
  });

  it('posts exactly once a change that another door stored after the previous digest, though Gong answered it before', async () => {
    await seed(stack, reps(5));
    const late = 'rep003@example.com';
    await load()({});
    const store = createHistoryStore({ db: stack.db, table: stack.table });
    const sweptLatest = await store.getLatest(late);
    expect(sweptLatest?.status).toBe('OK');
    // Another door had Gong's answer 1 ms after the sweep checked this user, so before that sweep's
    // digest ran (its own writes came in between), but stored it only now, after that digest.
    const answeredAt = new Date(Date.parse(sweptLatest?.checkedAt ?? '') + 1).toISOString();
    expect(answeredAt < new Date().toISOString()).toBe(true);
    stack.gong.setUser({ email: late, ...BROKEN });
    const unstored = await store.record(
      [
        {
          email: late,
          exists: true,
          valid: false,
          status: 'INVALID',
          checkedAt: answeredAt,
          gongRequestId: 'late-door',
          userFacingError: BROKEN.userFacingError,
          fixUrl: FIX_URL,
        },
      ],
      { source: 'api', requestId: 'late-door', previous: new Map([[late, sweptLatest as LatestResult]]) },
    );
    expect(unstored.size).toBe(0);

    const next = await load()({});
    const after = await load()({});

    expect(next).toEqual({ checked: 5, broke: [late], fixed: [], done: true });
    expect(after).toEqual({ checked: 5, broke: [], fixed: [], done: true });
    const digests = posts(slack, ALERT_CHANNEL);
    expect(digests).toHaveLength(1);
    expect(blockText(digests[0]?.body ?? {}).split(late)).toHaveLength(2);
  });

  it('resumes from its saved cursor when out of time and checks every user exactly once', async () => {
    const users = [
      ...reps(200),
      ...Array.from({ length: 50 }, (_, i) => ({
        email: `broken${i}@example.com`,
        status: 'INVALID' as const,
      })),
    ];
    await seed(stack, users);
    // rep000 breaks: checked in the first invocation, its latest item moves to the INVALID
    // partition, which a later invocation reads; it must not be checked twice.
    stack.gong.setUser({ email: 'rep000@example.com', ...BROKEN });
    // One Gong call a second; the first invocation has 1.9 s of work (3.9 s less the 2 s the
    // deadline keeps back): room for exactly one call.
    env.GONG_MAX_RPS = '1';
    // A continuation first waits out the pacer blocks its predecessor owns (README "Staying under
    // Gong's limits": at 1 call/s a block is 2 s, and one may be claimed ahead), up to ~3 s after
    // the predecessor's call. 2.95 s of work covers that wait, yet stays under the 3 s that the 150
    // users left (two calls 1 s apart) and then the digest would need: at least two continuations.
    // With 1.9 s, a busy CPU made the first continuation miss its slot and the next ones cascade.
    continuationTimeoutMs = 4_950;

    const first = await load()({}, { timeoutMs: 3_900 });
    await lambda.settled();

    expect(first).toMatchObject({ checked: 100, done: false });
    const continuations = lambda.invocations.filter((invocation) => invocation.type === 'Event');
    expect(continuations.length).toBeGreaterThanOrEqual(2);
    expect(lambda.finished.every((run) => run.error === undefined)).toBe(true);
    const last = lambda.finished.at(-1)?.result as SweepAnswer;
    expect(last).toEqual({ checked: 250, broke: ['rep000@example.com'], fixed: [], done: true });
    expect(posts(slack, ALERT_CHANNEL)).toHaveLength(1);
    expect(stack.gong.stats.emailsPerCall.reduce((sum, n) => sum + n, 0)).toBe(250);
    const written = await Promise.all(users.map((user) => sweepChecks(stack, user.email)));
    expect(written.filter((count) => count !== 1)).toEqual([]);
  });

  it('lets one of two sweeps started together run while the other exits', async () => {
    const users = reps(150);
    await seed(stack, users);
    const [one, two] = [load(), load()];

    const answers = await Promise.all([one({}), two({})]);

    const checked = answers.map((answer) => answer.checked).sort((a, b) => a - b);
    expect(checked).toEqual([0, 150]);
    expect(stack.gong.stats.emailsPerCall.reduce((sum, n) => sum + n, 0)).toBe(150);
    const written = await Promise.all(users.map((user) => sweepChecks(stack, user.email)));
    expect(written.every((count) => count === 1)).toBe(true);
    // The lock is released at the end: the next sweep runs.
    expect((await load()({})).checked).toBe(150);
  });

  it('fails naming the refusal when Gong answers 403, and leaves the lock free', async () => {
    await seed(stack, reps(3));
    stack.gong.injectFault({ kind: 'status', status: 403 });

    await expect(load()({})).rejects.toMatchObject({ name: 'SweepAbortedError', message: /GONG_FORBIDDEN/ });

    expect((await load()({})).checked).toBe(3);
  });

  it('nudges a user still broken on day 3, and not one fixed since', async () => {
    const threeDaysAgo = new Date(Date.now() - 3 * DAY_MS).toISOString();
    await seed(stack, [
      { email: 'stuck@example.com', status: 'INVALID', checkedAt: threeDaysAgo },
      { email: 'mended@example.com', status: 'INVALID', checkedAt: threeDaysAgo },
    ]);
    stack.gong.setUser({ email: 'stuck@example.com', ...BROKEN });
    stack.gong.setUser({ email: 'mended@example.com', exists: true, valid: true });
    slack.setUser('U0STUCK', { email: 'stuck@example.com', name: 'stuck' });
    slack.setUser('U0MENDED', { email: 'mended@example.com', name: 'mended' });
    const sweep = load({ NUDGE_USERS: 'true' });

    const first = await sweep({});
    const second = await sweep({});

    expect(first.fixed).toEqual(['mended@example.com']);
    expect(second.fixed).toEqual([]);
    const nudges = posts(slack, 'U0STUCK');
    expect(nudges).toHaveLength(1);
    expect(blockText(nudges[0]?.body ?? {})).toContain(BROKEN.userFacingError);
    expect(nudges[0]?.body.blocks).toContainEqual({
      type: 'actions',
      elements: [
        expect.objectContaining({
          type: 'button',
          url: FIX_URL,
          text: expect.objectContaining({ text: 'Fix it' }),
        }),
      ],
    });
    expect(posts(slack, 'U0MENDED')).toHaveLength(0);
    const lookups = slack.calls.filter((call) => call.method === 'users.lookupByEmail');
    expect(lookups.map((call) => call.body.email)).toEqual(['stuck@example.com']);
  });

  it('does not nudge when NUDGE_USERS is off', async () => {
    const oneDayAgo = new Date(Date.now() - DAY_MS).toISOString();
    await seed(stack, [{ email: 'stuck@example.com', status: 'INVALID', checkedAt: oneDayAgo }]);
    stack.gong.setUser({ email: 'stuck@example.com', ...BROKEN });
    slack.setUser('U0STUCK', { email: 'stuck@example.com' });

    await load()({});

    expect(slack.calls.filter((call) => call.method === 'users.lookupByEmail')).toHaveLength(0);
    expect(posts(slack, 'U0STUCK')).toHaveLength(0);
  });

  it('checks active Gong users nobody asked about, across pages of GET /v2/users, when SWEEP_DISCOVER is on', async () => {
    await seed(stack, [{ email: 'ada@example.com' }, { email: 'rep001@example.com' }]);
    const hires = Array.from({ length: 150 }, (_, i) => `hire${i}@example.com`);
    for (const email of hires) stack.gong.setUser({ email, exists: true, valid: true });
    stack.gong.setUser({ email: 'left@example.com', exists: true, valid: true, active: false });

    const answer = await load({ SWEEP_DISCOVER: 'true' })({});

    // Stored: ada, rep001. Gong's list (2 pages of 100) adds margaret, grace, linus and the 150
    // hires; ada is not checked twice, left is inactive.
    expect(answer.checked).toBe(155);
    expect(stack.gong.usersStats.calls).toBe(2);
    expect(await sweepChecks(stack, 'hire149@example.com')).toBe(1);
    expect(await sweepChecks(stack, 'ada@example.com')).toBe(1);
    expect(await sweepChecks(stack, 'left@example.com')).toBe(0);
    expect(stack.gong.stats.emailsPerCall.reduce((sum, n) => sum + n, 0)).toBe(155);
  });
});
