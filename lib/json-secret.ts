import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type * as z from 'zod/mini';
import { ConfigError } from '#lib/errors.ts';

/** A JSON secret in Secrets Manager, and how long a container may cache it. */
export interface SecretRef {
  kind: 'secret';
  secretId: string;
  maxAgeSeconds: number;
}

/** Gives a secret's current value; `forceFetch` re-reads it past the cache (it may have rotated). */
export type CachedSecret<T> = (options?: { forceFetch?: boolean }) => Promise<T>;

/**
 * Parses a secret's JSON and checks it against `schema`; errors name the secret and the fields
 * present, never a value. `mustHold` describes the expected shape in those errors.
 */
export function parseJsonSecret<S extends z.ZodMiniType>(
  secretId: string,
  raw: unknown,
  expected: { schema: S; mustHold: string },
): z.output<S> {
  if (typeof raw !== 'string') throw new ConfigError(`Secret ${secretId} has no SecretString`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // JSON.parse's own message quotes the text: it would leak the secret.
    throw new ConfigError(`Secret ${secretId} is not valid JSON`);
  }
  const parsed = expected.schema.safeParse(json);
  if (!parsed.success) {
    const fields =
      json !== null && typeof json === 'object' ? Object.keys(json).join(', ') || 'none' : 'none';
    throw new ConfigError(`Secret ${secretId} must hold ${expected.mustHold} (fields present: ${fields})`);
  }
  return parsed.data;
}

/**
 * A secret read from Secrets Manager through Powertools' cache (one fetch per container per
 * `maxAgeSeconds`) and turned into a value by `parse`; concurrent callers share one fetch.
 */
export function cachedSecret<T>(options: {
  client: SecretsManagerClient;
  secretId: string;
  maxAgeSeconds?: number;
  parse: (raw: unknown) => T;
}): CachedSecret<T> {
  const { secretId, parse } = options;
  const provider = new SecretsProvider({ awsSdkV3Client: options.client });
  let inFlight: Promise<T> | undefined;
  return (fetchOptions) => {
    if (inFlight && !fetchOptions?.forceFetch) return inFlight;
    const pending = provider
      .get(secretId, {
        maxAge: options.maxAgeSeconds ?? 300,
        forceFetch: fetchOptions?.forceFetch ?? false,
      })
      .then(parse)
      .catch((error: unknown) => {
        if (error instanceof ConfigError) throw error;
        throw new ConfigError(`Could not read secret ${secretId}: ${errorName(error)}`, { cause: error });
      })
      .finally(() => {
        if (inFlight === pending) inFlight = undefined;
      });
    inFlight = pending;
    return pending;
  };
}

function errorName(error: unknown): string {
  // SDK errors carry the AWS error code as name (ResourceNotFoundException, AccessDeniedException…).
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
}
