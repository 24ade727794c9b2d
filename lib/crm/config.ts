import { readSecretRef, requireEnv } from '#lib/config.ts';
import type { SecretSetting } from '#lib/crm/secret-field.ts';
import { ConfigError } from '#lib/errors.ts';

type Env = Record<string, string | undefined>;

/** A Salesforce Organization Id: 15 characters, or 18 with the case-safe suffix; orgs start with 00D. */
const ORG_ID = /^00D[a-zA-Z0-9]{12}(?:[a-zA-Z0-9]{3})?$/;

/** The Standard Webhooks signing secret of the CRM webhook: CRM_WEBHOOK_SECRET_ID or CRM_WEBHOOK_SECRET. */
export function readCrmWebhookSecret(env: Env): SecretSetting {
  return readSecretSetting(env, {
    secretIdVar: 'CRM_WEBHOOK_SECRET_ID',
    valueVar: 'CRM_WEBHOOK_SECRET',
    field: 'signingSecret',
  });
}

export interface SalesforceConfig {
  /** Organization Ids allowed to send outbound messages (15-character form). */
  orgIds: string[];
  /** The shared token the outbound message URL carries in its query. */
  token: SecretSetting;
}

/** The Salesforce outbound-message door's settings: SALESFORCE_ORG_ID and SALESFORCE_SECRET_ID or SALESFORCE_TOKEN. */
export function readSalesforceConfig(env: Env): SalesforceConfig {
  const ids = requireEnv(env, 'SALESFORCE_ORG_ID')
    .split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const bad = ids.filter((id) => !ORG_ID.test(id));
  if (ids.length === 0 || bad.length > 0) {
    throw new ConfigError(
      `Environment variable SALESFORCE_ORG_ID must list Salesforce Organization Ids (00D…, 15 or 18 characters), comma-separated; ${bad.length} entries are not`,
    );
  }
  return {
    orgIds: ids.map((id) => id.slice(0, 15)),
    token: readSecretSetting(env, {
      secretIdVar: 'SALESFORCE_SECRET_ID',
      valueVar: 'SALESFORCE_TOKEN',
      field: 'token',
    }),
  };
}

function readSecretSetting(
  env: Env,
  names: { secretIdVar: string; valueVar: string; field: string },
): SecretSetting {
  const secret = readSecretRef(env, names.secretIdVar);
  if (secret) return { ...secret, field: names.field };
  const value = env[names.valueVar]?.trim();
  if (value) return { kind: 'env', name: names.valueVar, value };
  throw new ConfigError(`Set ${names.secretIdVar} (Secrets Manager) or ${names.valueVar}`);
}
