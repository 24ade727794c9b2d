/** Input that a caller must fix; names what is wrong. Direct invocations fail with this error type. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  readonly statusCode = 400;
  readonly code: string;
  constructor(message: string, options?: { code?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = options?.code ?? 'VALIDATION_FAILED';
  }
}

/**
 * A failure with a definite HTTP meaning; lib/http/public-error.ts turns it into an answer. Its
 * message and code are shown when `expose` is true: by default for a 4xx only (middy's rule).
 */
export class HttpError extends Error {
  override name = 'HttpError';
  readonly statusCode: number;
  readonly code: string;
  readonly expose: boolean;
  readonly headers: Record<string, string>;
  /** Extra top-level fields of the error body (e.g. the partial report). */
  readonly extra: Record<string, unknown>;
  constructor(
    statusCode: number,
    code: string,
    message: string,
    options?: {
      expose?: boolean;
      headers?: Record<string, string>;
      extra?: Record<string, unknown>;
      cause?: unknown;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.statusCode = statusCode;
    this.code = code;
    this.expose = options?.expose ?? statusCode < 500;
    this.headers = options?.headers ?? {};
    this.extra = options?.extra ?? {};
  }
}

/** Missing or unusable configuration or secret; message names the variable or secret, never a value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The error's message when it is an Error, else a generic phrase: never the raw value. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : 'non-error value thrown';
}
