import { createHmac } from 'node:crypto';
import { httpEvent } from './stack.ts';

/**
 * Slack's worked example from "Verifying requests from Slack" (docs.slack.dev/authentication/verifying-requests-from-slack):
 * this secret, timestamp and body give exactly this signature.
 */
export const SLACK_DOCS_EXAMPLE = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: '1531420618',
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
} as const;

/** Signs like Slack does, with node:crypto directly: the scheme is checked, not our own signer echoed. */
export function slackSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

let triggerCounter = 0;

/** A slash command's form body as Slack sends it (application/x-www-form-urlencoded). */
export function slashCommandBody(fields: {
  text?: string;
  userId?: string;
  responseUrl: string;
  triggerId?: string;
}): string {
  return new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0LOCAL',
    team_domain: 'local',
    channel_id: 'C0GENERAL',
    channel_name: 'general',
    user_id: fields.userId ?? 'U0ADA',
    user_name: 'ada',
    command: '/gong-status',
    text: fields.text ?? '',
    api_app_id: 'A0GONG',
    is_enterprise_install: 'false',
    response_url: fields.responseUrl,
    trigger_id:
      fields.triggerId ?? `${Date.now()}.${++triggerCounter}.${Math.random().toString(16).slice(2)}`,
  }).toString();
}

/** A block_actions payload for a link button click, form-encoded under `payload` as Slack sends it. */
export function linkClickBody(actionId: string, url: string): string {
  const payload = {
    type: 'block_actions',
    user: { id: 'U0ADA', username: 'ada', team_id: 'T0LOCAL' },
    api_app_id: 'A0GONG',
    token: 'legacy-verification-token',
    container: {
      type: 'message',
      message_ts: '1700000000.000100',
      channel_id: 'C0GENERAL',
      is_ephemeral: true,
    },
    trigger_id: `${Date.now()}.1.link`,
    team: { id: 'T0LOCAL', domain: 'local' },
    channel: { id: 'C0GENERAL', name: 'general' },
    response_url: 'https://hooks.slack.com/actions/T0LOCAL/1/abc',
    actions: [
      {
        action_id: actionId,
        block_id: 'b1',
        text: { type: 'plain_text', text: 'Fix it', emoji: true },
        type: 'button',
        url,
        action_ts: '1700000001.000200',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/**
 * A Re-check click (block_actions) as Slack posts it: form-encoded under `payload`. On a message it
 * carries the message's response_url (under /actions/); on the Home tab the container is a view and
 * there is none.
 */
export function recheckClickBody(fields: {
  email: string;
  responseUrl?: string;
  userId?: string;
  triggerId?: string;
  actionId?: string;
}): string {
  const onMessage = fields.responseUrl !== undefined;
  const payload = {
    type: 'block_actions',
    user: { id: fields.userId ?? 'U0ADA', username: 'ada', team_id: 'T0LOCAL' },
    api_app_id: 'A0GONG',
    token: 'legacy-verification-token',
    container: onMessage
      ? { type: 'message', message_ts: '1700000000.000100', channel_id: 'C0GENERAL', is_ephemeral: true }
      : { type: 'view', view_id: 'V0HOME' },
    trigger_id: fields.triggerId ?? `${Date.now()}.${++triggerCounter}.recheck`,
    team: { id: 'T0LOCAL', domain: 'local' },
    ...(onMessage ? { channel: { id: 'C0GENERAL', name: 'general' }, response_url: fields.responseUrl } : {}),
    actions: [
      {
        action_id: fields.actionId ?? (onMessage ? 'recheck:0' : 'recheck:home'),
        block_id: 'b1',
        text: { type: 'plain_text', text: 'Re-check', emoji: true },
        value: fields.email,
        type: 'button',
        action_ts: '1700000001.000200',
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** An Events API delivery of app_home_opened (JSON), as Slack posts it to /slack/events. */
export function homeOpenedBody(fields: {
  userId: string;
  eventId?: string;
  tab?: 'home' | 'messages';
}): string {
  return JSON.stringify({
    token: 'legacy-verification-token',
    team_id: 'T0LOCAL',
    api_app_id: 'A0GONG',
    event: {
      type: 'app_home_opened',
      user: fields.userId,
      channel: 'D0HOME',
      tab: fields.tab ?? 'home',
      event_ts: `${Math.floor(Date.now() / 1000)}.000100`,
    },
    type: 'event_callback',
    event_id: fields.eventId ?? `Ev${Date.now().toString(36).toUpperCase()}${++triggerCounter}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: 'T0LOCAL', user_id: 'U0GONGBOT', is_bot: true }],
  });
}

/** Slack's url_verification request, sent when the Events API Request URL is saved. */
export function urlVerificationBody(challenge: string): string {
  return JSON.stringify({ token: 'legacy-verification-token', challenge, type: 'url_verification' });
}

/**
 * The API Gateway (HTTP API, payload v2) event for a POST to /slack/commands (form body) or, with
 * `path: '/slack/events'`, the Events API (JSON body), with Slack's headers.
 */
export function slackEvent(
  body: string,
  options: {
    secret: string;
    timestamp?: string;
    signature?: string;
    base64?: boolean;
    path?: '/slack/commands' | '/slack/events';
    headers?: Record<string, string>;
  },
) {
  const timestamp = options.timestamp ?? String(Math.floor(Date.now() / 1000));
  const path = options.path ?? '/slack/commands';
  const event = httpEvent('POST', path, {
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    headers: {
      'content-type': path === '/slack/events' ? 'application/json' : 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': options.signature ?? slackSignature(options.secret, timestamp, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...options.headers,
    },
  });
  return { ...event, isBase64Encoded: options.base64 === true };
}
