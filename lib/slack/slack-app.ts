import type { Logger } from '@aws-lambda-powertools/logger';
// Deep imports: Bolt's index also loads the Express receiver (express and its body parsers) that we never use.
import App from '@slack/bolt/dist/App';
import AwsLambdaReceiver from '@slack/bolt/dist/receivers/AwsLambdaReceiver';
import type { LogLevel } from '@slack/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { publicError } from '#lib/http/public-error.ts';
import { rawBody } from '#lib/http/responses.ts';
import { LINK_ACTION_PREFIXES, RECHECK_ACTION_PREFIX } from '#lib/slack/blocks.ts';
import type { SlackCredentialSource } from '#lib/slack/credentials.ts';
import type { AckReply, RecheckClick, SlashCommand } from '#lib/slack/hand-off.ts';
import { SlackSignatureError, verifySlackRequest } from '#lib/slack/verify-request.ts';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

interface SlackAppOptions {
  credentials: SlackCredentialSource;
  /** Web API base for Bolt's client (SLACK_API_URL). */
  apiUrl: string;
  /** Answers a slash command; its reply becomes the ack's body. */
  onCommand: (command: SlashCommand, requestId: string) => Promise<AckReply>;
  /** Hands a Re-check click on. */
  onRecheck: (click: RecheckClick) => Promise<void>;
  /** Hands an `app_home_opened` on the Home tab on. */
  onHomeOpened: (opened: { eventId: string; userId: string }) => Promise<void>;
  logger: Logger;
}

const LINK_ACTION = new RegExp(`^(${LINK_ACTION_PREFIXES.join('|')}):`);
const RECHECK_ACTION = new RegExp(`^${RECHECK_ACTION_PREFIX}`);

/**
 * The `slack` function's 2-argument Lambda handler for `/slack/commands` (slash commands and
 * block_actions) and `/slack/events` (the Events API, its url_verification challenge included): our
 * v0 signature check (both sides of the 5-minute window) in front of a Bolt app on its AWS Lambda
 * receiver. The signature is verified once, by us, with the cached signing secret, so Bolt's receiver
 * does not verify again and the app is built once, here, whatever the secret rotates to. Bolt answers
 * the challenge only after our check, so an unsigned one gets 401 like anything else.
 */
export function createSlackApp(options: SlackAppOptions): Handler {
  const { logger } = options;
  const handle = buildBoltHandler(options);

  return async (event, context) => {
    let credentials: Awaited<ReturnType<SlackCredentialSource>>;
    let body: string;
    try {
      credentials = await options.credentials();
      body = rawBody(event);
    } catch (error: unknown) {
      const { statusCode, exposed } = publicError(error);
      if (!exposed)
        logger.error('Slack request not served', { error: error instanceof Error ? error : String(error) });
      return { statusCode, body: '' };
    }
    try {
      verifySlackRequest({
        signingSecret: credentials.signingSecret,
        rawBody: body,
        timestamp: header(event, 'x-slack-request-timestamp'),
        signature: header(event, 'x-slack-signature'),
      });
    } catch (error: unknown) {
      if (!(error instanceof SlackSignatureError)) throw error;
      logger.warn('Refused a Slack request', { reason: error.message });
      return { statusCode: 401, body: '' };
    }
    // Bolt decodes base64 bodies as ASCII and matches the content type exactly: give it the text we verified.
    const contentType = header(event, 'content-type') ?? '';
    const normalised: APIGatewayProxyEventV2 & { lambdaRequestId: string } = {
      ...event,
      body,
      isBase64Encoded: false,
      headers: {
        ...Object.fromEntries(
          Object.entries(event.headers ?? {}).filter(([name]) => name.toLowerCase() !== 'content-type'),
        ),
        'content-type': contentType.startsWith('application/x-www-form-urlencoded')
          ? 'application/x-www-form-urlencoded'
          : contentType,
      },
      lambdaRequestId: context.awsRequestId,
    };
    return handle(normalised, context);
  };
}

function buildBoltHandler(options: SlackAppOptions): Handler {
  const logger = boltLogger(options.logger);
  const receiver = new AwsLambdaReceiver({
    // Only requests that passed verifySlackRequest reach the receiver; Bolt's own check would
    // repeat ours, and refuses fewer (future timestamps pass it).
    signatureVerification: false,
    signingSecret: '',
    logger,
    customPropertiesExtractor: (event) => ({
      requestId: String((event as { lambdaRequestId?: unknown }).lambdaRequestId ?? 'unknown'),
    }),
  });
  const app = new App({
    receiver,
    logger,
    // Our own authorize, not `token`: the bot token comes from the cached credentials, so a rotated
    // token is picked up without rebuilding the app, and Bolt never calls auth.test (a round trip
    // on every cold start, and it hangs offline).
    authorize: async () => ({ botToken: (await options.credentials()).botToken }),
    clientOptions: { slackApiUrl: options.apiUrl },
    ignoreSelf: false,
    convoStore: false,
  });
  // Whatever the command is called in the workspace (`/gong-status`, `/gong-status-dev`), this endpoint serves only ours.
  app.command(/.+/, async ({ command, ack, context }) => {
    const reply = await options.onCommand(command, String(context.requestId ?? 'unknown'));
    await ack(reply);
  });
  // Link buttons open their URL in the browser and still post block_actions here; an ack keeps Slack from showing a warning.
  app.action(LINK_ACTION, async ({ ack }) => {
    await ack();
  });
  // Hand off first, then ack: the receiver answers Slack only once the listener returns anyway.
  app.action(RECHECK_ACTION, async ({ ack, body, action }) => {
    if (body.type === 'block_actions' && action.type === 'button' && 'action_id' in action) {
      await options.onRecheck({
        triggerId: body.trigger_id,
        userId: body.user.id,
        actionId: action.action_id,
        value: action.value,
        responseUrl: body.response_url,
      });
    }
    await ack();
  });
  // Bolt acks events itself before the listener runs; the hand-off is done before the handler returns.
  app.event('app_home_opened', async ({ event, body }) => {
    if (event.tab !== 'home') return;
    await options.onHomeOpened({ eventId: body.event_id, userId: event.user });
  });
  app.error(async (error) => {
    options.logger.error('Bolt listener failed', { error });
  });
  const handle = receiver.toHandler();
  return (event, context) => handle(event as Parameters<typeof handle>[0], context) as ReturnType<Handler>;
}

function header(event: Pick<APIGatewayProxyEventV2, 'headers'>, name: string): string | undefined {
  const headers = event.headers ?? {};
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** Bolt's logger interface onto ours. Debug is dropped: Bolt's debug lines print whole request bodies. */
function boltLogger(logger: Logger) {
  const text = (parts: unknown[]) =>
    parts.map((part) => (typeof part === 'string' ? part : String(part))).join(' ');
  return {
    debug: () => undefined,
    info: (...parts: unknown[]) => logger.info(text(parts)),
    warn: (...parts: unknown[]) => logger.warn(text(parts)),
    error: (...parts: unknown[]) => logger.error(text(parts)),
    setLevel: () => undefined,
    getLevel: () => 'info' as LogLevel,
    setName: () => undefined,
  };
}
