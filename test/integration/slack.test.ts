import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_USERS } from '#local/gong-sandbox.ts';
import { DEFAULT_BOT_TOKEN, startSlackApi } from '#local/slack-api.ts';
import { startLambdaInvoke } from '../support/lambda-invoke.ts';
import {
  linkClickBody,
  SLACK_DOCS_EXAMPLE,
  slackEvent,
  slashCommandBody,
} from '../support/slack-requests.ts';
import { loadHandler, startTestStack } from '../support/stack.ts';

const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
const SLACK_SECRET_ID = 'gong-status/slack';
const WORKER = 'gong-status-test-slackWorker';
const RECORDER = 'gong-status-test-recorder';

interface HttpResult {
  statusCode: number;
  body?: string;
}
type Handler = (event: unknown) => Promise<HttpResult>;
type Worker = (event: unknown) => Promise<unknown>;

interface Section {
  type: string;
  text?: { text: string };
  elements?: { type: string; text: string | { text: string }; url?: string }[];
}

/** Everything the two bundles talk to, on loopback, and both bundles loaded with the functions' environment (README "Configuration"). */
async function startSlackStack(gongLatencyMs = 0) {
  const stack = await startTestStack({ gong: { rps: 100, latencyMs: gongLatencyMs } });
  const slack = await startSlackApi();
  let worker: Worker = async () => {
    throw new Error('worker not loaded');
  };
  const lambda = await startLambdaInvoke({
    [WORKER]: (event) => worker(event),
    [RECORDER]: async () => null,
  });
  stack.secrets.setSecret(
    SLACK_SECRET_ID,
    JSON.stringify({ signingSecret: SIGNING_SECRET, botToken: DEFAULT_BOT_TOKEN }),
  );
  const env = {
    ...stack.env,
    SLACK_SECRET_ID,
    SLACK_API_URL: slack.url,
    SLACK_WORKER_FUNCTION: WORKER,
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
  };
  worker = loadHandler('slackWorker', env) as Worker;
  const command = loadHandler('slack', env) as Handler;
  return {
    stack,
    slack,
    lambda,
    env,
    command,
    worker: (event: unknown) => worker(event),
    async stop() {
      await lambda.settled();
      await Promise.all([lambda.close(), slack.close(), stack.stop()]);
    },
  };
}

type SlackStack = Awaited<ReturnType<typeof startSlackStack>>;

function sectionTexts(message: Record<string, unknown> | undefined): string[] {
  const blocks = (message?.blocks ?? []) as Section[];
  // Sections carry a text object; context blocks carry text objects as elements (buttons are left out).
  return blocks.flatMap((b) =>
    b.type === 'actions'
      ? []
      : [
          b.text?.text ?? '',
          ...(b.elements ?? []).map((e) => (typeof e.text === 'string' ? e.text : '')),
        ].filter(Boolean),
  );
}

function buttonsOf(message: Record<string, unknown> | undefined) {
  const blocks = (message?.blocks ?? []) as Section[];
  return blocks.flatMap((b) => (b.type === 'actions' ? (b.elements ?? []) : []));
}

describe('slack + slackWorker (built bundles, loopback Slack, Lambda, Gong, Secrets Manager, DynamoDB)', () => {
  let s: SlackStack;

  beforeAll(async () => {
    s = await startSlackStack();
  });
  afterAll(async () => s?.stop());
  beforeEach(async () => {
    await s.lambda.settled();
    s.stack.gong.resetStats();
    s.lambda.invocations.length = 0;
    s.lambda.finished.length = 0;
    s.slack.responses.length = 0;
    s.slack.calls.length = 0;
  });

  /** Sends a signed slash command; resolves with the HTTP answer and, once the worker posted, its reply. */
  async function run(text: string, options: { userId?: string } = {}) {
    const responseUrl = s.slack.responseUrl();
    const body = slashCommandBody({ text, responseUrl, ...options });
    const ack = await s.command(slackEvent(body, { secret: SIGNING_SECRET }));
    return {
      ack,
      ackBody: JSON.parse(ack.body ?? '{}') as { text?: string; blocks?: unknown[] },
      responseUrl,
    };
  }

  async function reply(responseUrl: string) {
    await s.lambda.settled();
    const id = responseUrl.split('/').pop();
    const posts = s.slack.responses.filter((r) => r.id === id);
    expect(posts).toHaveLength(1);
    return posts[0]?.body;
  }

  describe('signature', () => {
    const body = () => slashCommandBody({ text: 'ada@example.com', responseUrl: s.slack.responseUrl() });
    const now = () => Math.floor(Date.now() / 1000);

    it.each([
      ['signed with another secret', () => slackEvent(body(), { secret: 'not-the-secret' })],
      [
        'with a tampered body',
        () => {
          const signed = slackEvent(body(), { secret: SIGNING_SECRET });
          return { ...signed, body: (signed.body ?? '').replace('ada%40example.com', 'grace%40example.com') };
        },
      ],
      [
        'stale (6 minutes old)',
        () => slackEvent(body(), { secret: SIGNING_SECRET, timestamp: String(now() - 360) }),
      ],
      [
        'from the future (6 minutes ahead)',
        () => slackEvent(body(), { secret: SIGNING_SECRET, timestamp: String(now() + 360) }),
      ],
      ['without a signature', () => slackEvent(body(), { secret: SIGNING_SECRET, signature: '' })],
    ])('answers 401, invokes no worker and calls no Gong when the request is %s', async (_, event) => {
      const answer = await s.command(event());

      expect(answer.statusCode).toBe(401);
      expect(answer.body ?? '').toBe('');
      await s.lambda.settled();
      expect(s.lambda.invocations).toHaveLength(0);
      expect(s.stack.gong.stats.calls).toBe(0);
      expect(s.slack.responses).toHaveLength(0);
    });

    it("answers 401 to Slack's published example now (stale), and accepts the same body freshly signed", async () => {
      // A second container of the slack bundle, configured with the docs' secret through the env pair.
      const docsCommand = loadHandler('slack', {
        ...s.env,
        SLACK_SECRET_ID: '',
        SLACK_SIGNING_SECRET: SLACK_DOCS_EXAMPLE.signingSecret,
        SLACK_BOT_TOKEN: DEFAULT_BOT_TOKEN,
        SLACK_WORKER_FUNCTION: RECORDER,
      }) as Handler;

      const stale = await docsCommand(
        slackEvent(SLACK_DOCS_EXAMPLE.body, {
          secret: SLACK_DOCS_EXAMPLE.signingSecret,
          timestamp: SLACK_DOCS_EXAMPLE.timestamp,
          signature: SLACK_DOCS_EXAMPLE.signature,
        }),
      );
      expect(stale.statusCode).toBe(401);
      expect(s.lambda.invocations).toHaveLength(0);

      const fresh = await docsCommand(
        slackEvent(SLACK_DOCS_EXAMPLE.body, { secret: SLACK_DOCS_EXAMPLE.signingSecret }),
      );
      expect(fresh.statusCode).toBe(200);
      expect(s.lambda.invocations).toEqual([
        expect.objectContaining({
          functionName: RECORDER,
          type: 'Event',
          payload: {
            triggerId: '398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
            responseUrl: 'https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN',
            userId: 'U2CERLKJA',
            command: { kind: 'self' },
          },
        }),
      ]);
      expect(s.stack.gong.stats.calls).toBe(0);
    });

    it('accepts a base64-encoded body, as API Gateway delivers form posts', async () => {
      const responseUrl = s.slack.responseUrl();
      const answer = await s.command(
        slackEvent(slashCommandBody({ text: 'ada@example.com', responseUrl }), {
          secret: SIGNING_SECRET,
          base64: true,
        }),
      );
      expect(answer.statusCode).toBe(200);
      expect(sectionTexts(await reply(responseUrl)).join('\n')).toContain('✅ *ada@example.com*');
    });
  });

  it('answers a broken user with Gong’s words and a Fix it button to Gong’s fixUrl', async () => {
    const grace = EXAMPLE_USERS.find((user) => user.email === 'grace@example.com');
    const { ack, ackBody, responseUrl } = await run('grace@example.com');

    expect(ack.statusCode).toBe(200);
    expect(ackBody.text).toMatch(/^Checking 1 user in Gong/);
    const message = await reply(responseUrl);
    expect(message?.response_type).toBe('ephemeral');
    expect(sectionTexts(message).join('\n')).toContain(`⚠️ *grace@example.com* — ${grace?.userFacingError}`);
    const [fix, learn] = buttonsOf(message);
    expect(fix?.text).toMatchObject({ text: 'Fix it' });
    expect(fix?.url).toBe(grace?.fixUrl);
    expect(learn?.text).toMatchObject({ text: 'Learn more' });
    expect(learn?.url).toBe(grace?.helpUrl);
    expect(message?.text).toMatch(/^Gong recording status: 1 user/);
    expect(s.stack.gong.stats.calls).toBe(1);
  });

  it('unwraps mailto links and resolves mentions with users.info, naming members without an email', async () => {
    const { ackBody, responseUrl } = await run(
      '<@U0ADA|ada> <mailto:nobody@example.com|nobody@example.com> <@U0BOT|deploybot> bob',
    );

    expect(ackBody.text).toMatch(
      /^Checking 3 users in Gong… the answer follows here\. Skipped \(not an email or @mention\): `bob`\./,
    );
    const texts = sectionTexts(await reply(responseUrl)).join('\n');
    expect(texts).toContain('✅ *ada@example.com*');
    expect(texts).toContain('❓ *nobody@example.com*');
    expect(texts).toContain('<@U0BOT> has no email address in Slack (a bot)');
    expect(
      s.slack.calls
        .filter((c) => c.method === 'users.info')
        .map((c) => c.body.user)
        .sort(),
    ).toEqual(['U0ADA', 'U0BOT']);
  });

  it('checks the caller themself, by their Slack profile email, when the text is empty', async () => {
    const { ackBody, responseUrl } = await run('', { userId: 'U0GRACE' });

    expect(ackBody.text).toMatch(/^Checking your Gong recording status/);
    expect(sectionTexts(await reply(responseUrl)).join('\n')).toContain('⚠️ *grace@example.com*');
  });

  it('tells a caller without a profile email so, without calling Gong', async () => {
    const { responseUrl } = await run('', { userId: 'U0BOT' });

    const message = await reply(responseUrl);
    expect(String(message?.text)).toContain('Your Slack profile has no email address in Slack');
    expect(s.stack.gong.stats.calls).toBe(0);
  });

  it('answers help in the ack, with no worker and no Gong', async () => {
    const { ack, ackBody } = await run('help');

    expect(ack.statusCode).toBe(200);
    expect(JSON.stringify(ackBody.blocks)).toContain('/gong-status history a@example.com');
    await s.lambda.settled();
    expect(s.lambda.invocations).toHaveLength(0);
    expect(s.stack.gong.stats.calls).toBe(0);
  });

  it('names the tokens and starts nothing when no token is an email or mention', async () => {
    const { ackBody } = await run('bob carol');

    expect(ackBody.text).toBe('Not an email or @mention: `bob`, `carol`. Try `/gong-status help`.');
    expect(s.lambda.invocations).toHaveLength(0);
  });

  it('answers history with the stored checks, newest first', async () => {
    const email = `broken-history-${Date.now()}@example.com`;
    await reply((await run(email)).responseUrl);
    s.slack.responses.length = 0;
    await reply((await run(email)).responseUrl);
    s.slack.responses.length = 0;

    const { responseUrl } = await run(`history <mailto:${email}|${email}>`);

    const message = await reply(responseUrl);
    const [head, lines] = sectionTexts(message);
    expect(head).toBe(`*History of ${email}* — last 2 checks, newest first`);
    expect(lines?.split('\n')).toHaveLength(2);
    expect(lines).toContain('⚠️ needs fixing — The Gong consent page is not enabled');
    expect(buttonsOf(message)[0]?.url).toMatch(/^https:\/\/us-12345\.app\.gong\.io\//);
  });

  it('answers team with the counts per status the table holds and the broken grouped by cause', async () => {
    await reply((await run('grace@example.com nobody@example.com ada@example.com')).responseUrl);
    s.slack.responses.length = 0;
    s.stack.gong.resetStats();
    const count = async (status: string) => {
      const out = await s.stack.db.send(
        new QueryCommand({
          TableName: s.stack.table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': `STATUS#${status}` },
          Select: 'COUNT',
        }),
      );
      return out.Count ?? 0;
    };

    const { responseUrl } = await run('team');

    const message = await reply(responseUrl);
    const invalid = await count('INVALID');
    expect(String(message?.text).split('\n')[0]).toBe(
      `Team status: ${await count('OK')} can be recorded, ${invalid} need fixing, ${await count('NOT_IN_GONG')} not in Gong`,
    );
    // Everyone INVALID here is broken by the consent page: one company-wide line with their count.
    const list = sectionTexts(message)[1] ?? '';
    expect(list).toContain(
      `⚠️ *${invalid} user${invalid === 1 ? '' : 's'}* — The Gong consent page is not enabled`,
    );
    expect(list).not.toContain('*grace@example.com*');
    expect(list).toContain('❓ *nobody@example.com* — not in Gong');
    expect(s.stack.gong.stats.calls).toBe(0);
  });

  it('acks a link button click (block_actions) without invoking anything', async () => {
    const answer = await s.command(
      slackEvent(linkClickBody('fix-it:0', 'https://us-12345.app.gong.io/x'), { secret: SIGNING_SECRET }),
    );
    expect(answer.statusCode).toBe(200);
    expect(s.lambda.invocations).toHaveLength(0);
  });

  it('answers once per trigger_id: a redelivered worker event neither checks nor posts again', async () => {
    const job = {
      triggerId: `trigger-${Date.now()}`,
      responseUrl: s.slack.responseUrl(),
      userId: 'U0ADA',
      command: { kind: 'check', targets: [{ kind: 'email', email: 'ada@example.com' }] },
    };

    const first = await s.worker(job);
    const second = await s.worker(job);

    expect(first).toEqual({ kind: 'check', checked: 1, answered: true });
    expect(second).toEqual(first);
    expect(s.stack.gong.stats.calls).toBe(1);
    expect(s.slack.responses).toHaveLength(1);
    const records = await s.stack.db.send(
      new QueryCommand({
        TableName: s.stack.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'idempotency#slackWorker' },
      }),
    );
    expect(
      records.Items?.some((item) => typeof item.expiresAt === 'number' && item.status === 'COMPLETED'),
    ).toBe(true);
  });

  it('fails the invocation (for the on-failure queue) when the answer cannot be delivered', async () => {
    const spent = s.slack.responseUrl('spent');
    for (let i = 0; i < 5; i++) await fetch(spent, { method: 'POST', body: '{"text":"x"}' });

    await expect(
      s.worker({
        triggerId: `trigger-spent-${Date.now()}`,
        responseUrl: spent,
        userId: 'U0ADA',
        command: { kind: 'team' },
      }),
    ).rejects.toThrow('Slack answered used_url to response_url');
  });

  // Last: the faults it queues would otherwise meet the next test's Gong call.
  it('tells the caller honestly, with our request id and no stack, when Gong is down', async () => {
    s.stack.gong.injectFault({ kind: 'status', status: 500 }, 20);

    const { responseUrl } = await run('ada@example.com');

    const message = await reply(responseUrl);
    const text = String(message?.text);
    expect(text).toContain('Gong did not answer');
    expect(text).toMatch(/Request id [0-9a-f-]{36}\./);
    expect(text).not.toMatch(/\bat \S+ \(|\.js:\d+|\.ts:\d+/);
  });
});

describe('slack ack timing (Gong sandbox answering in 4 s)', () => {
  let s: SlackStack;

  beforeAll(async () => {
    s = await startSlackStack(4_000);
  });
  afterAll(async () => s?.stop());

  it('acks before Gong answers, with the worker already invoked', async () => {
    const responseUrl = s.slack.responseUrl();
    const body = slashCommandBody({ text: 'ada@example.com', responseUrl });
    const startedAt = Date.now();

    const ack = await s.command(slackEvent(body, { secret: SIGNING_SECRET }));
    const ackedAt = Date.now();
    const postsAtAck = s.slack.responses.length;

    expect(ack.statusCode).toBe(200);
    expect(ackedAt - startedAt).toBeLessThan(3_000);
    expect(s.lambda.invocations).toHaveLength(1);
    expect(s.lambda.invocations[0]?.receivedAt).toBeLessThanOrEqual(ackedAt);
    expect(postsAtAck).toBe(0);

    const [answer] = await s.slack.waitForResponses(1, 20_000);
    const answeredAt = Date.now();
    expect(answeredAt - startedAt).toBeGreaterThanOrEqual(4_000);
    expect(s.stack.gong.stats.calls).toBe(1);
    expect(sectionTexts(answer?.body).join('\n')).toContain('✅ *ada@example.com*');
  });
});
