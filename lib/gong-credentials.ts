import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { ConfigError } from './errors.ts';

export const DEFAULT_GONG_BASE_URL = 'https://api.gong.io';

/** How we authenticate to Gong: an access key pair (Basic) or an OAuth token (Bearer). */
export type GongCredentials =
  | { kind: 'basic'; accessKey: string; accessKeySecret: string; baseUrl: string }
  | { kind: 'bearer'; accessToken: string; baseUrl: string };

/** Gives the current credentials; `forceFetch` re-reads the secret (after a 401: it may have rotated). */
export type GongCredentialSource = (options?: { forceFetch?: boolean }) => Promise<GongCredentials>;

const nonEmpty = z.string().check(z.minLength(1));
const secretSchema = z.union([
  z.object({ accessKey: nonEmpty, accessKeySecret: nonEmpty, baseUrl: z.optional(z.url()) }),
  z.object({ accessToken: nonEmpty, baseUrl: z.url() }),
]);

/** Parses the secret's JSON; errors name the secret and the fields, never the value. */
export function parseGongSecret(secretId: string, raw: unknown): GongCredentials {
  if (typeof raw !== 'string') throw new ConfigError(`Secret ${secretId} has no SecretString`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // JSON.parse's own message quotes the text: it would leak the secret.
    throw new ConfigError(`Secret ${secretId} is not valid JSON`);
  }
  const parsed = secretSchema.safeParse(json);
  if (!parsed.success) {
    const fields =
      json !== null && typeof json === 'object' ? Object.keys(json).join(', ') || 'none' : 'none';
    throw new ConfigError(
      `Secret ${secretId} must hold {"accessKey","accessKeySecret","baseUrl"?} or {"accessToken","baseUrl"} as non-empty strings (fields present: ${fields})`,
    );
  }
  const secret = parsed.data;
  const baseUrl = trimSlash(secret.baseUrl ?? DEFAULT_GONG_BASE_URL);
  return 'accessToken' in secret
    ? { kind: 'bearer', accessToken: secret.accessToken, baseUrl }
    : { kind: 'basic', accessKey: secret.accessKey, accessKeySecret: secret.accessKeySecret, baseUrl };
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
  const provider = new SecretsProvider({ awsSdkV3Client: options.client });
  let inFlight: Promise<GongCredentials> | undefined;
  return (fetchOptions) => {
    if (inFlight && !fetchOptions?.forceFetch) return inFlight;
    const pending = provider
      .get(options.secretId, {
        maxAge: options.maxAgeSeconds ?? 300,
        forceFetch: fetchOptions?.forceFetch ?? false,
      })
      .then((raw) => parseGongSecret(options.secretId, raw))
      .catch((error: unknown) => {
        if (error instanceof ConfigError) throw error;
        throw new ConfigError(`Could not read secret ${options.secretId}: ${errorName(error)}`, {
          cause: error,
        });
      })
      .finally(() => {
        if (inFlight === pending) inFlight = undefined;
      });
    inFlight = pending;
    return pending;
  };
}

/** Credentials given directly (local use: GONG_ACCESS_KEY / GONG_ACCESS_KEY_SECRET). */
export function staticGongCredentials(credentials: GongCredentials): GongCredentialSource {
  const fixed = { ...credentials, baseUrl: trimSlash(credentials.baseUrl) };
  return async () => fixed;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function errorName(error: unknown): string {
  // SDK errors carry the AWS error code as name (ResourceNotFoundException, AccessDeniedException…).
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
}
