import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { cachedSecret, parseJsonSecret, type SecretRef } from '#lib/secrets/json-secret.ts';

/** Gives the current value of one secret string. */
export type SecretSource = () => Promise<string>;

/** Where a secret string comes from: a field of a Secrets Manager JSON secret (AWS), or given directly (local use). */
export type SecretFieldSetting = (SecretRef & { field: string }) | { kind: 'env'; value: string };

/**
 * One string field of a JSON secret in Secrets Manager, read through Powertools' cache
 * (one fetch per container per `maxAgeSeconds`). Errors name the secret and field, never a value.
 */
export function secretField(options: {
  client: SecretsManagerClient;
  secretId: string;
  field: string;
  maxAgeSeconds?: number;
}): SecretSource {
  const { secretId, field } = options;
  const schema = z.object({ [field]: z.string().check(z.trim(), z.minLength(1)) });
  const expected = { schema, mustHold: `{"${field}"} as a non-empty string` };
  return cachedSecret({
    ...options,
    parse: (raw) => parseJsonSecret(secretId, raw, expected)[field] as string,
  });
}

/** A secret given directly (local use), as a source like the Secrets Manager one. */
export function fixedSecret(value: string): SecretSource {
  return async () => value;
}

/** The source for a setting, reading Secrets Manager through `client`. */
export function secretSourceOf(setting: SecretFieldSetting, client: SecretsManagerClient): SecretSource {
  return setting.kind === 'secret'
    ? secretField({
        client,
        secretId: setting.secretId,
        field: setting.field,
        maxAgeSeconds: setting.maxAgeSeconds,
      })
    : fixedSecret(setting.value);
}
