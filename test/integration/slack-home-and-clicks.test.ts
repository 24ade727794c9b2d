import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CONSENT_PAGE_PROBLEM } from '#local/gong-sandbox/users.ts';
import { DEFAULT_BOT_TOKEN, startSlackApi } from '#local/slack-api.ts';
import { expectValidBlockKit } from '../support/block-kit.ts';
import { startLambdaInvoke } from '../support/lambda-invoke.ts';
import {
  homeOpenedBody,
  recheckClickBody,
  slackEvent,
  slashCommandBody,
  urlVerificationBody,
} from '../support/slack-requests.ts';
import { loadHandler, startTestStack } from '../support/stack.ts';

const SIGNING_SECRET = 'test-signing-secret-home-and-clicks';
const SLACK_SECRET_ID = 'gong-status/slack';
const WORKER = 'gong-status-test-slackWorker';
const TEAM_PAGE_URL = 'https://abc123.execute-api.us-east-1.amazonaws.com/';

interface HttpResult {
  statusCode: number;
  body?: string;
  headers?: Record<string, string>;
}
type Handler = (event: unknown) => Promise<HttpResult>;
type Worker = (event: unknown) => Promise<unknown>;

/** The built slack and slackWorker bundles against loopback Slack, Lambda, Gong, Secrets Manager and DynamoDB. */
async function startSlackStack() {
  const stack = await startTestStack({ gong: { rps: 100 } });
  const slack = await startSlackApi();
  let worker: Worker = async () => {
    throw new Error('worker not loaded');
  };
  const lambda = await startLambdaInvoke({ [WORKER]: (event) => worker(event) });
  stack.secrets.setSecret(
    SLACK_SECRET_ID,
    JSON.stringify({ signingSecret: SIGNING_SECRET, botToken: DEFAULT_BOT_TOKEN }),
  );
  const env = {
    ...stack.env,
    SLACK_SECRET_ID,
    SLACK_API_URL: slack.url,
    SLACK_WORKER_FUNCTION: WORKER,
    SLACK_ADMIN_USERS: 'U0LINUS',
    TEAM_PAGE_URL,
    AWS_ENDPOINT_URL_LAMBDA: lambda.url,
  };
  worker = loadHandler('slackWorker', env) as Worker;
  const slackFn = loadHandler('slack', env) as Handler;
  return {
    stack,
    slack,
    lambda,
    slackFn,
    async stop() {
      await lambda.settled();
      await Promise.all([lambda.close(), slack.close(), stack.stop()]);
    },
  };
}

type Block = {
  type: string;
  text?: { text: string };
  accessory?: Record<string, unknown>;
  elements?: unknown[];
};
const textOf = (blocks: unknown) => JSON.stringify(blocks ?? []);

describe('slack + slackWorker: Re-check clicks, App Home, problems grouped by cause (built bundles)', () => {
  let s: Awaited<ReturnType<typeof startSlackStack>>;

  beforeAll(async () => {
    s = await startSlackStack();
  });
  afterAll(async () => s?.stop());
  beforeEach(async () => {
    await s.lambda.settled();
    s.stack.gong.resetStats();
    s.lambda.invocations.length = 0;
    s.slack.responses.length = 0;
    s.slack.calls.length = 0;
    s.slack.homeViews.clear();
  });

  const signed = (body: string, path: '/slack/commands' | '/slack/events' = '/slack/commands') =>
    slackEvent(body, { secret: SIGNING_SECRET, path });

  async function command(text: string, userId = 'U0ADA') {
    const responseUrl = s.slack.responseUrl(undefined, 'commands');
    const ack = await s.slackFn(signed(slashCommandBody({ text, responseUrl, userId })));
    expect(ack.statusCode).toBe(200);
    await s.lambda.settled();
    const id = responseUrl.split('/').pop();
    return s.slack.responses.filter((post) => post.id === id).map((post) => post.body);
  }

  // First: the table holds only these 30 broken users, so the team is exactly them.
  it('shows 30 users broken by the consent page as one grouped line with 30, in the team answer and App Home', async () => {
    const emails = Array.from({ length: 30 }, (_, i) => `broken-consent-${i}@example.com`);
    await command(emails.join(' '));

    const [team] = await command('team');
    expectValidBlockKit(team as never);
    const teamText = textOf(team?.blocks);
    expect(teamText.match(/consent page is not enabled/g)).toHaveLength(1);
    expect(teamText).toContain(`⚠️ *30 users* — ${CONSENT_PAGE_PROBLEM.userFacingError}`);
    expect(teamText).toContain(`<${CONSENT_PAGE_PROBLEM.fixUrl}|Fix it>`);
    expect(teamText).not.toContain('broken-consent-7@example.com*');

    // An admin by SLACK_ADMIN_USERS (U0LINUS is no workspace admin in the stand-in).
    s.slack.setUser('U0LINUS', { email: 'linus@example.com', name: 'linus' });
    const ack = await s.slackFn(signed(homeOpenedBody({ userId: 'U0LINUS' }), '/slack/events'));
    expect(ack.statusCode).toBe(200);
    await s.lambda.settled();
    const home = s.slack.homeViews.get('U0LINUS');
    expect(home?.type).toBe('home');
    const homeText = textOf(home?.blocks);
    expect(homeText).toContain('*linus@example.com*');
    expect(homeText).toContain('Your team');
    expect(homeText.match(/consent page is not enabled/g)).toHaveLength(1);
    expect(homeText).toContain('⚠️ *30 users*');
    expect(homeText).toContain('Broken the longest: *broken-consent-');
    expect(homeText).toContain(`<${TEAM_PAGE_URL}|team-health page>`);
  });

  it('re-checks the clicked user and replaces the message through the click’s response_url', async () => {
    const responseUrl = s.slack.responseUrl(undefined, 'actions');

    const ack = await s.slackFn(signed(recheckClickBody({ email: 'grace@example.com', responseUrl })));

    expect(ack.statusCode).toBe(200);
    expect(ack.body ?? '').toBe('');
    await s.lambda.settled();
    expect(s.lambda.invocations.map((invocation) => invocation.payload)).toEqual([
      expect.objectContaining({ responseUrl, command: { kind: 'recheck', email: 'grace@example.com' } }),
    ]);
    expect(s.slack.responses).toHaveLength(1);
    const answer = s.slack.responses[0]?.body ?? {};
    expect(answer.replace_original).toBe(true);
    expect(answer.response_type).toBe('ephemeral');
    const blocks = (answer.blocks ?? []) as Block[];
    expect(textOf(blocks)).toContain('⚠️ *grace@example.com*');
    expect(textOf(blocks)).toMatch(/Checked <!date\^\d+\^\{date_short_pretty\} \{time\}\|/);
    expect(blocks.find((block) => block.accessory)?.accessory).toMatchObject({
      action_id: 'recheck:0',
      value: 'grace@example.com',
    });
    expect(s.stack.gong.stats.calls).toBe(1);
  });

  it('re-checks once when Slack delivers the same click twice', async () => {
    const responseUrl = s.slack.responseUrl(undefined, 'actions');
    const body = recheckClickBody({
      email: 'ada@example.com',
      responseUrl,
      triggerId: `twice-${Date.now()}`,
    });

    await s.slackFn(signed(body));
    await s.lambda.settled();
    await s.slackFn(signed(body));
    await s.lambda.settled();

    expect(s.lambda.invocations).toHaveLength(2);
    expect(s.stack.gong.stats.calls).toBe(1);
    expect(s.slack.responses).toHaveLength(1);
  });

  it('answers the url_verification challenge, and refuses an unsigned event with nothing run', async () => {
    const challenge = '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P';

    const answer = await s.slackFn(signed(urlVerificationBody(challenge), '/slack/events'));
    const unsigned = await s.slackFn(
      slackEvent(homeOpenedBody({ userId: 'U0ADA' }), {
        secret: SIGNING_SECRET,
        path: '/slack/events',
        signature: '',
      }),
    );
    const forged = await s.slackFn(
      slackEvent(homeOpenedBody({ userId: 'U0ADA' }), { secret: 'not-the-secret', path: '/slack/events' }),
    );

    expect(answer.statusCode).toBe(200);
    expect(JSON.parse(answer.body ?? '{}')).toEqual({ challenge });
    expect(unsigned.statusCode).toBe(401);
    expect(forged.statusCode).toBe(401);
    await s.lambda.settled();
    expect(s.lambda.invocations).toHaveLength(0);
    expect(s.slack.homeViews.size).toBe(0);
  });

  it('publishes a member’s Home tab with their own status and Fix it / Learn more / Re-check, and no team', async () => {
    await s.slackFn(signed(homeOpenedBody({ userId: 'U0GRACE' }), '/slack/events'));
    await s.lambda.settled();

    const home = s.slack.homeViews.get('U0GRACE');
    expect(home).toBeDefined();
    expectValidBlockKit({ blocks: (home?.blocks ?? []) as object[], text: 'home' });
    const text = textOf(home?.blocks);
    expect(text).toContain(`⚠️ *grace@example.com* — ${CONSENT_PAGE_PROBLEM.userFacingError}`);
    expect(text).toContain('"action_id":"recheck:home"');
    expect(text).toContain(`"url":"${CONSENT_PAGE_PROBLEM.fixUrl}"`);
    expect(text).toContain(`"url":"${CONSENT_PAGE_PROBLEM.helpUrl}"`);
    expect(text).not.toContain('Your team');
    expect(s.slack.calls.filter((call) => call.method === 'views.publish')).toHaveLength(1);
  });

  it('shows the stored status on a second opening within hours, without asking Gong again', async () => {
    await s.slackFn(signed(homeOpenedBody({ userId: 'U0GRACE' }), '/slack/events'));
    await s.lambda.settled();
    const firstCalls = s.stack.gong.stats.calls;
    s.slack.homeViews.clear();

    // A retry of another delivery carries x-slack-retry-num; a new event_id is a new opening.
    await s.slackFn(signed(homeOpenedBody({ userId: 'U0GRACE' }), '/slack/events'));
    await s.lambda.settled();

    expect(s.stack.gong.stats.calls).toBe(firstCalls);
    expect(textOf(s.slack.homeViews.get('U0GRACE')?.blocks)).toContain('*grace@example.com*');
  });

  it('publishes once when Slack retries the same event (same event_id, x-slack-retry-num)', async () => {
    const body = homeOpenedBody({ userId: 'U0ADA', eventId: `EvRETRY${Date.now()}` });

    await s.slackFn(signed(body, '/slack/events'));
    await s.lambda.settled();
    await s.slackFn(
      slackEvent(body, {
        secret: SIGNING_SECRET,
        path: '/slack/events',
        headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
      }),
    );
    await s.lambda.settled();

    expect(s.slack.calls.filter((call) => call.method === 'views.publish')).toHaveLength(1);
    // Ada is a workspace admin in the stand-in (users.info is_admin): she sees the team.
    expect(textOf(s.slack.homeViews.get('U0ADA')?.blocks)).toContain('Your team');
  });

  it('re-checks the viewer and re-publishes the Home tab when its Re-check is clicked', async () => {
    await s.slackFn(signed(recheckClickBody({ email: 'grace@example.com', userId: 'U0GRACE' })));
    await s.lambda.settled();

    expect(s.stack.gong.stats.calls).toBe(1);
    expect(s.slack.responses).toHaveLength(0);
    expect(textOf(s.slack.homeViews.get('U0GRACE')?.blocks)).toContain('*grace@example.com*');
  });

  it('checks the other mentions and names the one whose Slack email is not usable', async () => {
    s.slack.setUser('U0JURGEN', { email: 'jürgen@firma.de', name: 'jurgen' });

    const [answer] = await command('<@U0JURGEN|jurgen> <@U0ADA|ada>');

    const text = textOf(answer?.blocks);
    expect(text).toContain('✅ *ada@example.com*');
    expect(text).toContain('<@U0JURGEN> has the email `jürgen@firma.de` in Slack');
    expect(s.stack.gong.stats.calls).toBe(1);
  });

  it('keeps the notes of 25 bot mentions within Slack’s limits, so the answer is delivered', async () => {
    const bots = Array.from({ length: 25 }, (_, i) => `U0BOT${String(i).padStart(2, '0')}`);
    for (const id of bots) s.slack.setUser(id, { name: `bot${id}`, isBot: true });

    const [answer] = await command([...bots.map((id) => `<@${id}|b>`), 'ada@example.com'].join(' '));

    expect(answer).toBeDefined();
    expectValidBlockKit(answer as never);
    expect(textOf(answer?.blocks)).toContain('✅ *ada@example.com*');
    expect(textOf(answer?.blocks)).toMatch(/…and \d+ more notes like these\./);
  });

  it('answers in text alone when Slack refuses the blocks', async () => {
    s.slack.failNext('response_url', 'invalid_blocks');

    const posts = await command('grace@example.com');

    expect(posts).toHaveLength(1);
    expect(posts[0]?.blocks).toBeUndefined();
    expect(String(posts[0]?.text)).toContain('grace@example.com: The Gong consent page is not enabled');
  });
});
