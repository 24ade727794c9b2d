import { describe, expect, it } from 'vitest';
import { postToResponseUrl } from '#lib/slack/web-api.ts';
import { readSlackConfig } from '../../functions/wiring/config.ts';

describe('postToResponseUrl', () => {
  const env = { SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'xoxb-1' };

  function recordingFetch() {
    const urls: string[] = [];
    const fetch = (async (url: string | URL | Request) => {
      urls.push(String(url));
      return new Response('ok', { status: 200 });
    }) as typeof globalThis.fetch;
    return { urls, fetch };
  }

  it("posts to Slack's hooks host", async () => {
    const { urls, fetch } = recordingFetch();
    const { responseUrls } = readSlackConfig(env);

    await postToResponseUrl(
      'https://hooks.slack.com/commands/T1/2/abc',
      { text: 'hi' },
      {
        allowed: responseUrls,
        fetch,
      },
    );

    expect(urls).toEqual(['https://hooks.slack.com/commands/T1/2/abc']);
  });

  it('posts to the origin of SLACK_API_URL, where a local stand-in serves response URLs', async () => {
    const { urls, fetch } = recordingFetch();
    const { responseUrls } = readSlackConfig({ ...env, SLACK_API_URL: 'http://127.0.0.1:3011/api/' });

    await postToResponseUrl(
      'http://127.0.0.1:3011/responses/r1',
      { text: 'hi' },
      {
        allowed: responseUrls,
        fetch,
      },
    );

    expect(urls).toHaveLength(1);
  });

  it("posts to a click's response_url under /actions/", async () => {
    const { urls, fetch } = recordingFetch();
    const { responseUrls } = readSlackConfig(env);

    await postToResponseUrl(
      'https://hooks.slack.com/actions/T1/2/abc',
      { text: 'hi' },
      { allowed: responseUrls, fetch },
    );

    expect(urls).toEqual(['https://hooks.slack.com/actions/T1/2/abc']);
  });

  it.each([
    ["another workspace's incoming webhook on Slack's host", 'https://hooks.slack.com/services/T9/B9/xyz'],
    ['a path that climbs out of /commands/', 'https://hooks.slack.com/commands/../services/T9/B9/xyz'],
    ['an encoded climb out of /actions/', 'https://hooks.slack.com/actions/%2e%2e/services/T9/B9/xyz'],
    ['the stand-in origin when SLACK_API_URL is Slack’s own', 'http://127.0.0.1:3011/responses/r1'],
    ['another host', 'https://169.254.169.254/latest/meta-data/'],
    ['a look-alike host', 'https://hooks.slack.com.evil.example/x'],
    ['plain http to Slack', 'http://hooks.slack.com/commands/T1/2/abc'],
    ['not a URL', 'hooks.slack.com/commands'],
  ])('throws and sends nothing for %s', async (_case, url) => {
    const { urls, fetch } = recordingFetch();
    const { responseUrls } = readSlackConfig(env);

    await expect(postToResponseUrl(url, { text: 'hi' }, { allowed: responseUrls, fetch })).rejects.toThrow(
      /not one of Slack's/,
    );
    expect(urls).toHaveLength(0);
  });
});
