import { describe, expect, it } from 'vitest';
import { SlackSignatureError, signSlackRequest, verifySlackRequest } from '#lib/slack/verify-request.ts';
import { SLACK_DOCS_EXAMPLE, slackSignature } from '../support/slack-requests.ts';

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
