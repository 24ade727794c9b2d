import { ConfigError } from '#lib/errors.ts';
import { DEFAULT_GONG_BASE_URL } from '#lib/gong/credentials.ts';

type Env = Record<string, string | undefined>;

/** The value of a required variable; a missing one fails the cold start by name. */
export function requireEnv(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`Environment variable ${name} is required`);
  return value;
}

/** A positive number from the environment, or the default; garbage fails by name. */
export function numberEnv(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new ConfigError(
      `Environment variable ${name} must be a positive number (got ${JSON.stringify(raw)})`,
    );
  }
  return value;
}

/** A JSON secret in Secrets Manager, and how long a container may cache it. */
export interface SecretRef {
  kind: 'secret';
  secretId: string;
  maxAgeSeconds: number;
}

/** The secret `idVar` names, cached for SECRETS_TTL_SECONDS; undefined when `idVar` is unset. */
export function readSecretRef(env: Env, idVar: string): SecretRef | undefined {
  const secretId = env[idVar]?.trim();
  if (!secretId) return undefined;
  return { kind: 'secret', secretId, maxAgeSeconds: numberEnv(env, 'SECRETS_TTL_SECONDS', 300) };
}

export interface CoreConfig {
  table: string;
  gong: SecretRef | { kind: 'env'; accessKey: string; accessKeySecret: string; baseUrl: string };
  maxRps: number;
  gongTimeoutMs: number;
  retentionDays: number;
}

/** Reads what every door needs (table, Gong credentials, pacing) from DESIGN.md's variables. */
export function readCoreConfig(env: Env): CoreConfig {
  const table = requireEnv(env, 'HISTORY_TABLE');
  const secret = readSecretRef(env, 'GONG_SECRET_ID');
  let gong: CoreConfig['gong'];
  if (secret) {
    gong = secret;
  } else if (env.GONG_ACCESS_KEY?.trim() || env.GONG_ACCESS_KEY_SECRET?.trim()) {
    gong = {
      kind: 'env',
      accessKey: requireEnv(env, 'GONG_ACCESS_KEY'),
      accessKeySecret: requireEnv(env, 'GONG_ACCESS_KEY_SECRET'),
      baseUrl: env.GONG_BASE_URL?.trim() || DEFAULT_GONG_BASE_URL,
    };
  } else {
    throw new ConfigError(
      'Set GONG_SECRET_ID, or GONG_ACCESS_KEY and GONG_ACCESS_KEY_SECRET, for Gong credentials',
    );
  }
  return {
    table,
    gong,
    maxRps: numberEnv(env, 'GONG_MAX_RPS', 3),
    gongTimeoutMs: numberEnv(env, 'GONG_TIMEOUT_MS', 10_000),
    retentionDays: numberEnv(env, 'HISTORY_RETENTION_DAYS', 400),
  };
}
