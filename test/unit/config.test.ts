import { describe, expect, it } from 'vitest';
import {
  flagEnv,
  readCoreConfig,
  readCrmWebhookSecret,
  readSalesforceConfig,
  readSlackCommandConfig,
  readSlackConfig,
  readSweepAlerts,
  readSweepConfig,
  sweepPostsToSlack,
} from '../../functions/wiring/config.ts';

describe('readCoreConfig', () => {
  it('prefers the secret when GONG_SECRET_ID is set', () => {
    const config = readCoreConfig({ HISTORY_TABLE: 't', GONG_SECRET_ID: 'gong', GONG_ACCESS_KEY: 'k' });
    expect(config.gong).toEqual({ kind: 'secret', secretId: 'gong', maxAgeSeconds: 300 });
    expect(config.maxRps).toBe(3);
  });

  it('takes credentials from the environment, leaving the base URL to the Gong module when unset', () => {
    const config = readCoreConfig({ HISTORY_TABLE: 't', GONG_ACCESS_KEY: 'k', GONG_ACCESS_KEY_SECRET: 's' });
    expect(config.gong).toEqual({ kind: 'env', accessKey: 'k', accessKeySecret: 's' });
    const tenant = readCoreConfig({
      HISTORY_TABLE: 't',
      GONG_ACCESS_KEY: 'k',
      GONG_ACCESS_KEY_SECRET: 's',
      GONG_BASE_URL: ' https://us-1.api.gong.io ',
    });
    expect(tenant.gong).toMatchObject({ baseUrl: 'https://us-1.api.gong.io' });
  });

  it('fails naming the variable that is missing or wrong', () => {
    expect(() => readCoreConfig({ GONG_SECRET_ID: 'g' })).toThrow(
      'Environment variable HISTORY_TABLE is required',
    );
    expect(() => readCoreConfig({ HISTORY_TABLE: 't' })).toThrow(/Set GONG_SECRET_ID, or GONG_ACCESS_KEY/);
    expect(() => readCoreConfig({ HISTORY_TABLE: 't', GONG_ACCESS_KEY: 'k' })).toThrow(
      /GONG_ACCESS_KEY_SECRET is required/,
    );
    expect(() => readCoreConfig({ HISTORY_TABLE: 't', GONG_SECRET_ID: 'g', GONG_MAX_RPS: 'fast' })).toThrow(
      'Environment variable GONG_MAX_RPS must be a positive number (got "fast")',
    );
    expect(() =>
      readCoreConfig({ HISTORY_TABLE: 't', GONG_SECRET_ID: 'g', SECRETS_TTL_SECONDS: '-1' }),
    ).toThrow('Environment variable SECRETS_TTL_SECONDS must be a positive number (got "-1")');
  });
});

describe('readSlackConfig', () => {
  it('returns the secret over the env pair, and a Web API base ending in a slash', () => {
    const config = readSlackConfig({
      SLACK_SECRET_ID: 'slack',
      SLACK_SIGNING_SECRET: 's',
      SLACK_BOT_TOKEN: 'b',
      SLACK_API_URL: 'http://127.0.0.1:3011/api',
      SECRETS_TTL_SECONDS: '60',
    });
    expect(config.credentials).toEqual({ kind: 'secret', secretId: 'slack', maxAgeSeconds: 60 });
    expect(config.apiUrl).toBe('http://127.0.0.1:3011/api/');
    expect(config.responseUrls).toContain('http://127.0.0.1:3011/commands/');
  });

  it('fails naming the variables when only half the env pair is set or the URL is not one', () => {
    expect(() => readSlackConfig({ SLACK_BOT_TOKEN: 'b' })).toThrow(
      'Set SLACK_SECRET_ID, or SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN, for Slack',
    );
    expect(() =>
      readSlackConfig({ SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'b', SLACK_API_URL: 'nope' }),
    ).toThrow('Environment variable SLACK_API_URL must be an absolute URL');
  });

  it('requires SLACK_WORKER_FUNCTION for the slash command', () => {
    const slack = { SLACK_SIGNING_SECRET: 's', SLACK_BOT_TOKEN: 'b' };
    expect(() => readSlackCommandConfig(slack)).toThrow(
      'Environment variable SLACK_WORKER_FUNCTION is required',
    );
    expect(readSlackCommandConfig({ ...slack, SLACK_WORKER_FUNCTION: ' worker ' }).workerFunction).toBe(
      'worker',
    );
  });
});

describe('CRM sections', () => {
  it('returns the secret id over the value, and the value when no secret id is set', () => {
    expect(readCrmWebhookSecret({ CRM_WEBHOOK_SECRET_ID: 'crm', CRM_WEBHOOK_SECRET: 'v' })).toEqual({
      kind: 'secret',
      secretId: 'crm',
      maxAgeSeconds: 300,
      field: 'signingSecret',
    });
    expect(readCrmWebhookSecret({ CRM_WEBHOOK_SECRET: ' v ' })).toEqual({ kind: 'env', value: 'v' });
    expect(() => readCrmWebhookSecret({})).toThrow(
      'Set CRM_WEBHOOK_SECRET_ID (Secrets Manager) or CRM_WEBHOOK_SECRET',
    );
  });

  it('returns 15-character org ids and fails on one that is not an org id', () => {
    const config = readSalesforceConfig({ SALESFORCE_ORG_ID: '00D5g000004ZQxBEAW, ', SALESFORCE_TOKEN: 't' });
    expect(config.orgIds).toEqual(['00D5g000004ZQxB']);
    expect(() => readSalesforceConfig({ SALESFORCE_ORG_ID: '001x', SALESFORCE_TOKEN: 't' })).toThrow(
      /SALESFORCE_ORG_ID must list Salesforce Organization Ids.*1 entries are not/,
    );
  });
});

describe('sweep sections', () => {
  it('returns the flags, and fails naming one that is neither true nor false', () => {
    expect(readSweepConfig({ SWEEP_DISCOVER: 'TRUE' })).toEqual({ discover: true, nudge: false });
    expect(() => flagEnv({ NUDGE_USERS: 'yes' }, 'NUDGE_USERS')).toThrow(
      'Environment variable NUDGE_USERS must be true or false (got "yes")',
    );
  });

  it('returns the bot token alone when no Slack secret is set, and fails without a channel', () => {
    expect(readSweepAlerts({ ALERT_CHANNEL: 'C1', SLACK_BOT_TOKEN: 'xoxb-1' })).toEqual({
      channel: 'C1',
      botToken: { kind: 'env', botToken: 'xoxb-1' },
      apiUrl: 'https://slack.com/api/',
    });
    expect(() => readSweepAlerts({ SLACK_BOT_TOKEN: 'xoxb-1' })).toThrow(
      'Environment variable ALERT_CHANNEL is required',
    );
    expect(sweepPostsToSlack({ ALERT_CHANNEL: 'C1', SLACK_SECRET_ID: 'slack' })).toBe(true);
    expect(sweepPostsToSlack({ SLACK_BOT_TOKEN: 'xoxb-1' })).toBe(false);
  });
});
