import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCheckUsers } from '#lib/check/check-users.ts';
import { staticGongCredentials } from '#lib/gong/credentials.ts';
import { createCallPacer } from '#lib/gong/pacer.ts';
import { createGongRequester } from '#lib/gong/requester.ts';
import { createGongClient } from '#lib/gong/status-client.ts';
import { createChangeLog } from '#lib/history/change-log.ts';
import { createHistoryStore } from '#lib/history/history-store.ts';
import { logger } from '#lib/observability/logger.ts';
import { createSlackNotifier } from '#lib/slack/sweep-notifier.ts';
import { createSlackApi } from '#lib/slack/web-api.ts';
import { createSweep } from '#lib/sweep/sweep.ts';
import { createSweepStore } from '#lib/sweep/sweep-store.ts';
import { DEFAULT_BOT_TOKEN, type SlackApiStandIn, startSlackApi } from '#local/slack-api.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

const DAY_MS = 86_400_000;
const BROKEN = {
  exists: true,
  valid: false,
  userFacingError: 'The Gong consent page is not enabled in your company. Contact your Gong Admin.',
  fixUrl: 'https://us-12345.app.gong.io/company/recording-consent/consent-page',
};

// The sweep's days are counted from its start, which this test moves a day at a time; Gong, the
// table and Slack are the real loopback ones.
describe('sweep nudges over a week (lib, loopback Gong, DynamoDB and Slack)', () => {
  let stack: TestStack;
  let slack: SlackApiStandIn;
  let clock = 0;

  beforeEach(async () => {
    stack = await startTestStack({ gong: { rps: 200, burst: 200 } });
    slack = await startSlackApi();
  });
  afterEach(async () => {
    await Promise.all([slack?.close(), stack?.stop()]);
  });

  function wire() {
    const db = DynamoDBDocumentClient.from(stack.db, { marshallOptions: { removeUndefinedValues: true } });
    const { table } = stack;
    const store = createHistoryStore({ db, table });
    const request = createGongRequester({
      credentials: staticGongCredentials({
        kind: 'basic',
        accessKey: 'sandbox-key',
        accessKeySecret: 'sandbox-secret',
        baseUrl: stack.gong.url,
      }),
      pacer: createCallPacer({ db, table, rps: 50 }),
      logger,
    });
    const gong = createGongClient({ request, logger });
    const sweep = createSweep({
      store,
      checkUsers: createCheckUsers({ gong, store, logger }),
      sweeps: createSweepStore({ db, table }),
      changes: createChangeLog({ db, table }),
      notifier: createSlackNotifier({
        slack: createSlackApi({ baseUrl: slack.url, botToken: async () => DEFAULT_BOT_TOKEN }),
        channel: 'C0ALERTS',
      }),
      logger,
      handOff: async () => {
        throw new Error('no hand-off expected in a sweep this small');
      },
      rps: 50,
      nudge: true,
      now: () => clock,
    });
    return { store, sweep };
  }

  const dmsTo = (channel: string) =>
    slack.calls.filter((call) => call.method === 'chat.postMessage' && call.body.channel === channel).length;

  it('DMs a broken user on days 1, 3 and 7 only, and stops once they are fixed', async () => {
    const { store, sweep } = wire();
    // Broke yesterday at noon UTC, so every "day d" below falls on a whole UTC date after it.
    const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00.000Z`);
    const brokeAt = today - DAY_MS + 12 * 3_600_000;
    const since = new Date(brokeAt).toISOString();
    const result = (email: string) => ({
      email,
      ...BROKEN,
      status: 'INVALID' as const,
      checkedAt: since,
      gongRequestId: 'seed',
    });
    await store.record([result('stays@example.com'), result('fixes@example.com')], {
      source: 'seed',
      requestId: 'seed',
      previous: new Map(),
    });
    stack.gong.setUser({ email: 'stays@example.com', ...BROKEN });
    stack.gong.setUser({ email: 'fixes@example.com', ...BROKEN });
    slack.setUser('U0STAYS', { email: 'stays@example.com' });
    slack.setUser('U0FIXES', { email: 'fixes@example.com' });

    const seen: { day: number; stays: number; fixes: number }[] = [];
    for (const day of [0, 1, 2, 3, 3, 4, 5, 6, 7, 8]) {
      if (day === 4) stack.gong.setUser({ email: 'fixes@example.com', exists: true, valid: true });
      clock = brokeAt + day * DAY_MS + 3_600_000;
      const answer = await sweep(
        {},
        { requestId: `sweep-day-${day}-${seen.length}`, deadline: Date.now() + 20_000 },
      );
      expect(answer.done).toBe(true);
      seen.push({ day, stays: dmsTo('U0STAYS'), fixes: dmsTo('U0FIXES') });
    }

    expect(seen.map((entry) => entry.stays)).toEqual([0, 1, 1, 2, 2, 2, 2, 2, 3, 3]);
    expect(seen.map((entry) => entry.fixes)).toEqual([0, 1, 1, 2, 2, 2, 2, 2, 2, 2]);
    expect((await store.getLatest('fixes@example.com'))?.status).toBe('OK');
  });
});
