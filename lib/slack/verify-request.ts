import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack's replay window: a request more than 5 minutes away from now, either way, is refused. */
export const MAX_SKEW_SECONDS = 300;

/** A request that does not carry a valid, fresh Slack v0 signature; the message says which check failed. */
export class SlackSignatureError extends Error {
  override name = 'SlackSignatureError';
}

/** The v0 signature Slack puts in X-Slack-Signature for this timestamp and raw body. */
export function signSlackRequest(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/**
 * Checks a request the way Slack's "Verifying requests from Slack" describes: HMAC-SHA256 of
 * `v0:{timestamp}:{raw body}`, and a timestamp within 5 minutes of `now` (epoch ms) in either direction.
 * Throws SlackSignatureError naming the failed check (never the secret or the expected signature).
 */
export function verifySlackRequest(request: {
  signingSecret: string;
  rawBody: string;
  timestamp: string | undefined;
  signature: string | undefined;
  now?: number;
}): void {
  const { timestamp, signature } = request;
  if (!timestamp || !signature)
    throw new SlackSignatureError('Missing X-Slack-Signature or timestamp header');
  if (!/^\d{1,12}$/.test(timestamp))
    throw new SlackSignatureError('X-Slack-Request-Timestamp is not a number');
  const skew = Number(timestamp) - Math.floor((request.now ?? Date.now()) / 1000);
  // Bolt 5.1's receiver refuses only old timestamps; a future one is as much a replay risk.
  if (skew < -MAX_SKEW_SECONDS) throw new SlackSignatureError(`Request timestamp is ${-skew} s old`);
  if (skew > MAX_SKEW_SECONDS) throw new SlackSignatureError(`Request timestamp is ${skew} s in the future`);
  const expected = Buffer.from(signSlackRequest(request.signingSecret, timestamp, request.rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new SlackSignatureError('X-Slack-Signature does not match the body');
  }
}
