import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserResult } from '#lib/check/report.ts';
import { createHistoryStore } from '#lib/history/history-store.ts';
import { CONSENT_PAGE_PROBLEM } from '#local/gong-sandbox/users.ts';
import { DEFAULT_BOT_TOKEN, type SlackApiStandIn, startSlackApi } from '#local/slack-api.ts';
import { expectValidBlockKit } from '../support/block-kit.ts';
import { type LambdaInvokeStandIn, startLambdaInvoke } from '../support/lambda-invoke.ts';
import { loadHandler, startTestStack, type TestStack } from '../support/stack.ts';

const ALERT_CHANNEL = 'C0ALERTS';

describe('the sweep’s digest groups by cause (built sweep bundle, loopback Gong, DynamoDB, Slack)', () => {
  let stack: TestStack;
  let slack: SlackApiStandIn;
  let lambda: LambdaInvokeStandIn;

  beforeEach(async () => {
    stack = await startTestStack({ gong: { rps: 200, burst: 200 } });
    slack = await startSlackApi();
    lambda = await startLambdaInvoke({});
  });
  afterEach(async () => {
    await Promise.all([lambda?.close(), slack?.close(), stack?.stop()]);
  });

  it('posts 30 users broken by the consent page as one line with 30 and the admin’s Fix it', async () => {
    const emails = Array.from({ length: 30 }, (_, i) => `rep${String(i).padStart(2, '0')}@example.com`);
    const store = createHistoryStore({ db: stack.db, table: stack.table, onWriteError: () => undefined });
    const checkedAt = new Date(Date.now() - 60_000).toISOString();
    const results: UserResult[] = emails.map((email) => ({
      email,
      exists: true,
      valid: true,
      status: 'OK',
      checkedAt,
      gongRequestId: 'seed',
    }));
    await store.record(results, { source: 'seed', requestId: 'seed', previous: new Map() });
    for (const email of emails)
      stack.gong.setUser({ email, exists: true, valid: false, ...CONSENT_PAGE_PROBLEM });
    const sweep = loadHandler('sweep', {
      ...stack.env,
      ALERT_CHANNEL,
      SLACK_BOT_TOKEN: DEFAULT_BOT_TOKEN,
      SLACK_API_URL: slack.url,
      SWEEP_FUNCTION: 'gong-status-test-sweep',
      AWS_ENDPOINT_URL_LAMBDA: lambda.url,
    });

    await sweep({});

    const posts = slack.calls.filter((call) => call.method === 'chat.postMessage');
    expect(posts).toHaveLength(1);
    const digest = posts[0]?.body as { blocks: object[]; text: string };
    expectValidBlockKit(digest);
    const text = JSON.stringify(digest.blocks);
    expect(text.match(/consent page is not enabled/g)).toHaveLength(1);
    expect(text).toContain('⚠️ *30 users* — The Gong consent page is not enabled');
    expect(text).not.toContain('rep07@example.com');
    expect(digest.blocks).toContainEqual(
      expect.objectContaining({
        type: 'section',
        accessory: expect.objectContaining({
          url: CONSENT_PAGE_PROBLEM.fixUrl,
          action_id: 'fix-it:digest-cause-0',
        }),
      }),
    );
  });
});
