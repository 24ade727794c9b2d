import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { logger } from '#lib/observability/logger.ts';
import type { SlackCredentials } from '#lib/slack/credentials.ts';
import type { SlashCommand } from '#lib/slack/hand-off.ts';
import { createSlackApp } from '#lib/slack/slack-app.ts';
import { SlackSignatureError, signSlackRequest, verifySlackRequest } from '#lib/slack/verify-request.ts';
import {
  SLACK_DOCS_EXAMPLE,
  slackEvent,
  slackSignature,
  slashCommandBody,
} from '../support/slack-requests.ts';

const docs = SLACK_DOCS_EXAMPLE;
const docsTimeMs = Number(docs.timestamp) * 1000;

function docsRequest(overrides: Partial<Parameters<typeof verifySlackRequest>[0]> = {}) {
  return {
    signingSecret: docs.signingSecret,
    rawBody: docs.body,
    timestamp: docs.timestamp,
    signature: docs.signature,
    now: docsTimeMs,
    ...overrides,
  };
}

describe('verifySlackRequest', () => {
  it("accepts Slack's published example at the time it was signed", () => {
    expect(() => verifySlackRequest(docsRequest())).not.toThrow();
    expect(signSlackRequest(docs.signingSecret, docs.timestamp, docs.body)).toBe(docs.signature);
  });

  it("accepts Slack's published example up to 5 minutes either side of its timestamp", () => {
    expect(() => verifySlackRequest(docsRequest({ now: docsTimeMs + 300_000 }))).not.toThrow();
    expect(() => verifySlackRequest(docsRequest({ now: docsTimeMs - 300_000 }))).not.toThrow();
  });

  it("rejects Slack's published example now, as stale", () => {
    expect(() => verifySlackRequest(docsRequest({ now: Date.now() }))).toThrow(/s old/);
  });

  it('rejects a timestamp just over 5 minutes old', () => {
    expect(() => verifySlackRequest(docsRequest({ now: docsTimeMs + 301_000 }))).toThrow(SlackSignatureError);
  });

  it('rejects a timestamp more than 5 minutes in the future', () => {
    expect(() => verifySlackRequest(docsRequest({ now: docsTimeMs - 301_000 }))).toThrow(/in the future/);
  });

  it('rejects the example signed with another secret', () => {
    const signature = slackSignature('another-secret', docs.timestamp, docs.body);
    expect(() => verifySlackRequest(docsRequest({ signature }))).toThrow(/does not match/);
  });

  it('rejects a tampered body', () => {
    expect(() => verifySlackRequest(docsRequest({ rawBody: docs.body.replace('text=', 'text=x') }))).toThrow(
      /does not match/,
    );
  });

  it('rejects a missing signature, a missing timestamp and a timestamp that is not a number', () => {
    expect(() => verifySlackRequest(docsRequest({ signature: undefined }))).toThrow(/Missing/);
    expect(() => verifySlackRequest(docsRequest({ timestamp: undefined }))).toThrow(/Missing/);
    expect(() => verifySlackRequest(docsRequest({ timestamp: '1531420618.5' }))).toThrow(/not a number/);
  });

  it('never names the secret or the expected signature in its message', () => {
    try {
      verifySlackRequest(docsRequest({ signature: 'v0=00' }));
      expect.unreachable();
    } catch (error: unknown) {
      expect(String(error)).not.toContain(docs.signingSecret);
      expect(String(error)).not.toContain(docs.signature.slice(3));
    }
  });
});

describe('createSlackApp', () => {
  const context = { awsRequestId: 'aws-req-1' } as Context;
  // The support builder fills only the request context fields a handler reads.
  const signed = (...args: Parameters<typeof slackEvent>) =>
    slackEvent(...args) as unknown as APIGatewayProxyEventV2;
  const body = slashCommandBody({ text: 'help', responseUrl: 'https://hooks.slack.com/commands/T0/1/x' });

  function app(credentials: () => SlackCredentials) {
    const commands: SlashCommand[] = [];
    const handler = createSlackApp({
      credentials: async () => credentials(),
      apiUrl: 'http://127.0.0.1:9/api/',
      onCommand: async (command) => {
        commands.push(command);
        return { text: `ran ${command.text}` };
      },
      onRecheck: async () => undefined,
      onHomeOpened: async () => undefined,
      logger,
    });
    return { handler, commands };
  }

  it('answers a command signed with the secret of the moment, before and after the secret rotates', async () => {
    let credentials: SlackCredentials = { signingSecret: 'secret-one', botToken: 'xoxb-one' };
    const { handler, commands } = app(() => credentials);

    const first = await handler(signed(body, { secret: 'secret-one' }), context);
    credentials = { signingSecret: 'secret-two', botToken: 'xoxb-two' };
    const afterRotation = await handler(signed(body, { secret: 'secret-two' }), context);

    expect(first.statusCode).toBe(200);
    expect(JSON.parse(String(afterRotation.body))).toEqual({ text: 'ran help' });
    expect(commands).toHaveLength(2);
  });

  it('answers 401 without running the command when the request is signed with a rotated-out secret', async () => {
    let credentials: SlackCredentials = { signingSecret: 'secret-one', botToken: 'xoxb-one' };
    const { handler, commands } = app(() => credentials);
    await handler(signed(body, { secret: 'secret-one' }), context);
    credentials = { signingSecret: 'secret-two', botToken: 'xoxb-two' };

    const stale = await handler(signed(body, { secret: 'secret-one' }), context);

    expect(stale.statusCode).toBe(401);
    expect(commands).toHaveLength(1);
  });

  it('answers 401 to unsigned, stale and forged requests without running the command', async () => {
    const { handler, commands } = app(() => ({ signingSecret: 'secret-one', botToken: 'xoxb-one' }));
    const old = String(Math.floor(Date.now() / 1000) - 301);
    const answers = await Promise.all([
      handler(signed(body, { secret: 'secret-one', signature: '' }), context),
      handler(signed(body, { secret: 'secret-one', timestamp: old }), context),
      handler(signed(body, { secret: 'forged' }), context),
    ]);
    expect(answers.map((answer) => answer.statusCode)).toEqual([401, 401, 401]);
    expect(commands).toHaveLength(0);
  });
});
