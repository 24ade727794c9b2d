import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../errors.ts';

/** Gives the current value of one secret string. */
export type SecretSource = () => Promise<string>;

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
  const provider = new SecretsProvider({ awsSdkV3Client: options.client });
  return async () => {
    let raw: unknown;
    try {
      raw = await provider.get(secretId, { maxAge: options.maxAgeSeconds ?? 300 });
    } catch (error: unknown) {
      const reason = error instanceof Error ? error.name : 'unknown error';
      throw new ConfigError(`Could not read secret ${secretId}: ${reason}`, { cause: error });
    }
    if (typeof raw !== 'string') throw new ConfigError(`Secret ${secretId} has no SecretString`);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      // JSON.parse's own message quotes the text: it would leak the secret.
      throw new ConfigError(`Secret ${secretId} is not valid JSON`);
    }
    const value =
      json !== null && typeof json === 'object' ? (json as Record<string, unknown>)[field] : undefined;
    if (typeof value !== 'string' || value.trim() === '') {
      throw new ConfigError(`Secret ${secretId} must hold {"${field}"} as a non-empty string`);
    }
    return value.trim();
  };
}

/** A secret given directly (local use), as a source like the Secrets Manager one. */
export function fixedSecret(value: string): SecretSource {
  return async () => value;
}

/** Where a secret comes from: a Secrets Manager JSON field (AWS) or the environment (local use). */
export type SecretSetting =
  | { kind: 'secret'; secretId: string; field: string; maxAgeSeconds: number }
  | { kind: 'env'; name: string; value: string };

/** The source for a setting, reading Secrets Manager through `client`. */
export function secretSourceOf(setting: SecretSetting, client: SecretsManagerClient): SecretSource {
  return setting.kind === 'secret'
    ? secretField({
        client,
        secretId: setting.secretId,
        field: setting.field,
        maxAgeSeconds: setting.maxAgeSeconds,
      })
    : fixedSecret(setting.value);
}
