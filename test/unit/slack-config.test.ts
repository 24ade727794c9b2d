import { describe, expect, it } from 'vitest';
import { readSlackWorkerConfig } from '../../functions/wiring/config.ts';

describe('readSlackWorkerConfig', () => {
  const env = { SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'xoxb-1' };

  it('returns the admin user ids and the team page URL, and none of either when unset', () => {
    const config = readSlackWorkerConfig({
      ...env,
      SLACK_ADMIN_USERS: ' U0ADA, W0GRID ,',
      TEAM_PAGE_URL: 'https://abc.execute-api.us-east-1.amazonaws.com',
    });
    expect(config.adminUsers).toEqual(['U0ADA', 'W0GRID']);
    expect(config.teamPageUrl).toBe('https://abc.execute-api.us-east-1.amazonaws.com');
    expect(readSlackWorkerConfig(env)).toMatchObject({ adminUsers: [] });
    expect(readSlackWorkerConfig(env)).not.toHaveProperty('teamPageUrl');
  });

  it("returns only Slack's /commands/ and /actions/ response URLs when SLACK_API_URL is Slack's own", () => {
    expect(readSlackWorkerConfig(env).slack.responseUrls).toEqual([
      'https://hooks.slack.com/commands/',
      'https://hooks.slack.com/actions/',
      'https://hooks.slack-gov.com/commands/',
      'https://hooks.slack-gov.com/actions/',
    ]);
  });

  it('fails naming the variable when an admin is not a user id or the page is not a URL', () => {
    expect(() => readSlackWorkerConfig({ ...env, SLACK_ADMIN_USERS: 'U0ADA,@ada' })).toThrow(
      'Environment variable SLACK_ADMIN_USERS must list Slack user ids (U… or W…), comma-separated; 1 entries are not',
    );
    expect(() => readSlackWorkerConfig({ ...env, TEAM_PAGE_URL: '[object Object]' })).toThrow(
      'Environment variable TEAM_PAGE_URL must be an http(s) URL',
    );
  });
});
