import type { Logger } from '@aws-lambda-powertools/logger';
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HttpError } from '#lib/errors/errors.ts';
import { publicError } from '#lib/http/public-error.ts';

/** Request bodies larger than this get 413 (README "Who may call", limits). */
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

/** Errors become JSON error responses by the one rule of lib/http/public-error.ts. */
export function errorResponse(
  error: unknown,
  requestId: string,
  logger: Logger,
): APIGatewayProxyStructuredResultV2 {
  const answer = publicError(error);
  if (!answer.exposed) {
    logger.error('Unhandled error', { error: error instanceof Error ? error : String(error) });
  } else if (answer.statusCode >= 500) {
    logger.error('Request failed', { code: answer.code, message: answer.message });
  }
  return json(
    answer.statusCode,
    { error: { code: answer.code, message: answer.message }, requestId, ...answer.extra },
    answer.headers,
  );
}

/** middy middleware applying errorResponse, with the Lambda request id as our request id. */
export function httpErrors(logger: Logger): MiddlewareObj<unknown, unknown> {
  return {
    onError: async (request) => {
      request.response = errorResponse(request.error, request.context.awsRequestId ?? 'unknown', logger);
    },
  };
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
