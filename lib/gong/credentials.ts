import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import {
  type CachedSecret,
  cachedSecret,
  parseJsonSecret,
  type SecretRef,
} from '#lib/secrets/json-secret.ts';

export const DEFAULT_GONG_BASE_URL = 'https://api.gong.io';

/** How we authenticate to Gong: an access key pair (Basic) or an OAuth token (Bearer). */
export type GongCredentials =
  | { kind: 'basic'; accessKey: string; accessKeySecret: string; baseUrl: string }
  | { kind: 'bearer'; accessToken: string; baseUrl: string };

/** Gives the current credentials; `forceFetch` re-reads the secret (after a 401: it may have rotated). */
export type GongCredentialSource = CachedSecret<GongCredentials>;

/** Where the credentials come from: a Secrets Manager secret, or a key pair given directly (local use). */
export type GongCredentialSetting =
  | SecretRef
  | { kind: 'env'; accessKey: string; accessKeySecret: string; baseUrl?: string };

const nonEmpty = z.string().check(z.minLength(1));
const secretSchema = z.union([
  z.object({ accessKey: nonEmpty, accessKeySecret: nonEmpty, baseUrl: z.optional(z.url()) }),
  z.object({ accessToken: nonEmpty, baseUrl: z.url() }),
]);

/** Parses the secret's JSON; errors name the secret and the fields, never the value. */
export function parseGongSecret(secretId: string, raw: unknown): GongCredentials {
  const secret = parseJsonSecret(secretId, raw, {
    schema: secretSchema,
    mustHold: '{"accessKey","accessKeySecret","baseUrl"?} or {"accessToken","baseUrl"} as non-empty strings',
  });
  const baseUrl = trimSlash(secret.baseUrl ?? DEFAULT_GONG_BASE_URL);
  return 'accessToken' in secret
    ? { kind: 'bearer', accessToken: secret.accessToken, baseUrl }
    : { kind: 'basic', accessKey: secret.accessKey, accessKeySecret: secret.accessKeySecret, baseUrl };
}

/** The credential source a setting names, reading Secrets Manager through `client`. */
export function gongCredentials(
  setting: GongCredentialSetting,
  client: SecretsManagerClient,
): GongCredentialSource {
  if (setting.kind === 'secret') {
    return secretGongCredentials({
      client,
      secretId: setting.secretId,
      maxAgeSeconds: setting.maxAgeSeconds,
    });
  }
  return staticGongCredentials({
    kind: 'basic',
    accessKey: setting.accessKey,
    accessKeySecret: setting.accessKeySecret,
    baseUrl: setting.baseUrl ?? DEFAULT_GONG_BASE_URL,
  });
}

/**
 * Reads Gong credentials from Secrets Manager through Powertools' cache (one fetch per
 * container per `maxAgeSeconds`); concurrent first callers share the one fetch.
 */
export function secretGongCredentials(options: {
  client: SecretsManagerClient;
  secretId: string;
  maxAgeSeconds?: number;
}): GongCredentialSource {
  return cachedSecret({ ...options, parse: (raw) => parseGongSecret(options.secretId, raw) });
}

/** Credentials given directly (local use: GONG_ACCESS_KEY / GONG_ACCESS_KEY_SECRET). */
export function staticGongCredentials(credentials: GongCredentials): GongCredentialSource {
  const fixed = { ...credentials, baseUrl: trimSlash(credentials.baseUrl) };
  return async () => fixed;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}
