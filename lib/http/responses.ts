import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { CheckReport } from '#lib/check/report.ts';
import { HttpError, ValidationError } from '#lib/errors.ts';

/** Request bodies larger than this get 413 (DESIGN.md). */
const MAX_BODY_BYTES = 1024 * 1024;

/** A JSON response with the status and headers given. */
export function json(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

/** The raw body as text, refusing bodies over MAX_BODY_BYTES before anything reads them. */
export function rawBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): string {
  const body = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  if (bytes.byteLength > MAX_BODY_BYTES) {
    throw new HttpError(
      413,
      'BODY_TOO_LARGE',
      `Request body is ${bytes.byteLength} bytes; the limit is 1 MB`,
    );
  }
  return bytes.toString('utf8');
}

/** The body parsed as JSON; malformed JSON is a 400 that says so. */
export function jsonBody(event: Pick<APIGatewayProxyEventV2, 'body' | 'isBase64Encoded'>): unknown {
  const text = rawBody(event);
  if (text.trim() === '') throw new HttpError(400, 'BAD_JSON', 'Request body is empty; expected JSON');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'BAD_JSON', 'Request body is not valid JSON');
  }
}

/** The one place errors become HTTP responses: 4xx keep their message, anything else is a bare 500. */
export function errorResponse(
  error: unknown,
  requestId: string,
  logger: Logger,
): APIGatewayProxyStructuredResultV2 {
  if (error instanceof HttpError || error instanceof ValidationError) {
    const headers = error instanceof HttpError ? error.headers : {};
    const extra = error instanceof HttpError ? error.extra : {};
    if (error.statusCode >= 500) logger.error('Request failed', { code: error.code, message: error.message });
    return json(
      error.statusCode,
      { error: { code: error.code, message: error.message }, requestId, ...extra },
      headers,
    );
  }
  const statusCode = httpStatusOf(error);
  if (statusCode !== undefined && statusCode < 500) {
    // middy's own errors (e.g. the router's 404) carry a statusCode and a safe message.
    const code = statusCode === 404 ? 'NOT_FOUND' : 'BAD_REQUEST';
    return json(statusCode, { error: { code, message: (error as Error).message }, requestId });
  }
  logger.error('Unhandled error', { error: error instanceof Error ? error : String(error) });
  return json(500, {
    error: { code: 'INTERNAL', message: 'Internal error; quote the requestId' },
    requestId,
  });
}

/** middy middleware applying errorResponse, with the Lambda request id as our request id. */
export function httpErrors(logger: Logger): MiddlewareObj<unknown, unknown> {
  return {
    onError: async (request) => {
      request.response = errorResponse(request.error, request.context.awsRequestId ?? 'unknown', logger);
    },
  };
}

/**
 * Turns a report where Gong failed for every email into DESIGN.md's error: 503 with
 * Retry-After when its rate limit outlasted our retries, else 502. The report rides along.
 */
export function assertGongAnswered(report: CheckReport): CheckReport {
  if (report.results.length > 0 || report.failures.length === 0) return report;
  const limited = report.failures.filter((f) => f.code === 'GONG_RATE_LIMITED');
  if (limited.length > 0) {
    const retryAfter = Math.max(1, ...limited.map((f) => f.retryAfterSeconds ?? 1));
    throw new HttpError(
      503,
      'GONG_RATE_LIMITED',
      `Gong's rate limit outlasted our retries; retry after ${retryAfter} s`,
      {
        headers: { 'retry-after': String(retryAfter) },
        extra: { report },
      },
    );
  }
  const codes = [...new Set(report.failures.map((f) => f.code))].join(', ');
  throw new HttpError(
    502,
    'GONG_FAILED',
    `Gong failed for every email (${codes}): ${report.failures[0]?.message}`,
    {
      extra: { report },
    },
  );
}

function httpStatusOf(error: unknown): number | undefined {
  if (
    error !== null &&
    typeof error === 'object' &&
    'statusCode' in error &&
    typeof error.statusCode === 'number'
  ) {
    return error.statusCode;
  }
  return undefined;
}

/** An integer query parameter within [min, max], or the fallback when absent; anything else is a named 400. */
export function intParam(
  params: Record<string, string | undefined> | undefined,
  name: string,
  range: { min: number; max: number; fallback: number },
): number {
  const raw = params?.[name];
  if (raw === undefined || raw === '') return range.fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new HttpError(
      400,
      'BAD_PARAMETER',
      `"${name}" must be a whole number from ${range.min} to ${range.max}`,
    );
  }
  return value;
}
