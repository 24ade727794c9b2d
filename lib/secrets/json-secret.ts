import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type * as z from 'zod/mini';
import { ConfigError, describeError } from '#lib/errors/errors.ts';
import { logger } from '#lib/observability/logger.ts';

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
  const name = secretName(secretId);
  if (typeof raw !== 'string') throw new ConfigError(`Secret ${name} has no SecretString`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // JSON.parse's own message quotes the text: it would leak the secret.
    throw new ConfigError(`Secret ${name} is not valid JSON`);
  }
  const parsed = expected.schema.safeParse(json);
  if (!parsed.success) {
    const fields =
      json !== null && typeof json === 'object' ? Object.keys(json).join(', ') || 'none' : 'none';
    throw new ConfigError(`Secret ${name} must hold ${expected.mustHold} (fields present: ${fields})`);
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
        // The SDK's message names the role's ARN and the account: it goes to the log, not to the
        // answer, which a caller or a Slack channel sees.
        logger.error('Could not read a secret', { secretId, error: describeError(error) });
        throw new ConfigError(`Could not read secret ${secretName(secretId)}: ${failureOf(error)}`, {
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

/** A secret id as a message may show it: an ARN (which names the account) becomes the secret's name. */
export function secretName(secretId: string): string {
  const match = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+?)(?:-[A-Za-z0-9]{6})?$/.exec(secretId);
  return match?.[1] ?? secretId;
}

/** What went wrong, from the SDK error's name (its AWS error code) only: never its message. */
function failureOf(error: unknown): string {
  // Powertools wraps the SDK's error (GetParameterError); the AWS error code is on its cause.
  let name = '';
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 5; at = at.cause, depth++) {
    name = at.name;
    if (name.endsWith('Exception') || name === 'DecryptionFailure' || name === 'TimeoutError') break;
  }
  switch (name) {
    case 'AccessDeniedException':
      return 'access denied';
    case 'ResourceNotFoundException':
      return 'no such secret';
    case 'DecryptionFailure':
      return 'its KMS key could not decrypt it';
    case 'InvalidRequestException':
      return 'it is scheduled for deletion or not readable';
    case 'TimeoutError':
    case 'AbortError':
      return 'Secrets Manager did not answer in time';
    default:
      return 'Secrets Manager failed (the log has the detail)';
  }
}
