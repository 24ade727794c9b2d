import { AsyncLocalStorage } from 'node:async_hooks';
import { randomInt } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { FailureCode } from '#lib/check/failures.ts';
import { describeError } from '#lib/errors/errors.ts';
import { wallClockMs } from '#lib/gong/clock.ts';
import type { GongCredentialSource, GongCredentials } from '#lib/gong/credentials.ts';
import {
  BudgetSpentError,
  type CallPacer,
  type CallPriority,
  SlotUnavailableError,
} from '#lib/gong/pacer.ts';
import type { CheckMetrics } from '#lib/observability/metrics.ts';

/**
 * One Gong request after pacing and retries: either Gong answered with a status the caller must
 * read (200, 4xx, a 401 that survived re-reading the secret), or it could not be had at all.
 */
export type GongResponse =
  | { kind: 'answered'; status: number; body: unknown; gongRequestId: string }
  | {
      kind: 'failed';
      code: Extract<
        FailureCode,
        'GONG_CREDENTIALS' | 'GONG_RATE_LIMITED' | 'GONG_UNAVAILABLE' | 'GONG_BUDGET_SPENT'
      >;
      message: string;
      retryAfterSeconds?: number;
    };

export interface GongRequest {
  method: 'GET' | 'POST';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Epoch ms: no call starts, and no wait is begun, that would end after it. */
  deadline: number;
  /** Background work stops at 80% of the day's budget (default: a person, who may use all of it). */
  priority?: CallPriority;
  /**
   * Told each time an attempt has left (its request is on the wire). Not at its slot: what the
   * caller starts then (a bulk check's next read) would hold the event loop while fetch sends.
   */
  onSent?: () => void;
}

/** Sends Gong requests the way every Gong call of the product is sent. */
export type GongRequester = ((request: GongRequest) => Promise<GongResponse>) & {
  /** About `calls` requests of this priority are coming: get what the first waits for (credentials, pacer) now. */
  prepare?: (priority?: CallPriority, calls?: number) => void;
};

interface GongRequesterOptions {
  credentials: GongCredentialSource;
  pacer: CallPacer;
  logger: Logger;
  fetch?: typeof fetch;
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Retries after 5xx, timeouts and network errors. */
  maxRetries?: number;
  /** Retries after 429 (each waits Retry-After). */
  maxRateLimitRetries?: number;
  backoffBaseMs?: number;
  /** Counts every HTTP call and every 429 (README › Operating it). */
  metrics?: Pick<CheckMetrics, 'gongCall' | 'gongRateLimited'>;
}

// When a request really leaves: fetch (undici) publishes its requests' creation and the moment their
// headers are written on these documented diagnostics channels; the call's async context names it.
const sending = new AsyncLocalStorage<() => void>();
const sentCallbacks = new WeakMap<object, () => void>();
let watchingSends = false;
function watchSends(): void {
  if (watchingSends) return;
  watchingSends = true;
  const requestOf = (message: unknown) =>
    message !== null &&
    typeof message === 'object' &&
    'request' in message &&
    typeof message.request === 'object'
      ? (message.request as object)
      : undefined;
  diagnostics.subscribe('undici:request:create', (message) => {
    const request = requestOf(message);
    const sent = sending.getStore();
    if (request && sent) sentCallbacks.set(request, sent);
  });
  diagnostics.subscribe('undici:client:sendHeaders', (message) => {
    const request = requestOf(message);
    if (request) sentCallbacks.get(request)?.();
  });
}

type Attempt =
  | { kind: 'status'; status: number; body: unknown; gongRequestId: string; retryAfterSeconds?: number }
  | { kind: 'network'; reason: string };

/**
 * Gong's call discipline in one place: each attempt takes a slot from the deployment-wide pacer
 * and has a timeout; 429 waits Retry-After (and pauses the whole deployment), 5xx, timeouts and network
 * errors retry with jittered backoff, 401 re-reads the secret once (it may have rotated); no wait
 * runs past the deadline.
 */
export function createGongRequester(options: GongRequesterOptions): GongRequester {
  const http = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRetries = options.maxRetries ?? 3;
  const maxRateLimitRetries = options.maxRateLimitRetries ?? 5;
  const backoffBaseMs = options.backoffBaseMs ?? 250;
  const { logger, pacer } = options;

  watchSends();

  async function attempt(credentials: GongCredentials, request: GongRequest): Promise<Attempt> {
    let markSent = (): void => undefined;
    const sentAt = new Promise<number>((resolve) => {
      markSent = () => resolve(wallClockMs());
    });
    pacer.callSent?.(sentAt);
    if (request.onSent) void sentAt.then(request.onSent);
    try {
      return await send(credentials, request, markSent);
    } finally {
      // An answer (or a failure) means it left, whatever fetch implementation sent it.
      markSent();
    }
  }

  async function send(
    credentials: GongCredentials,
    request: GongRequest,
    markSent: () => void,
  ): Promise<Attempt> {
    const url = new URL(`${credentials.baseUrl}${request.path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) url.searchParams.set(name, value);
    // A call that outlives the deadline outlives the invocation, and takes the whole report with it.
    const budgetMs = Math.min(timeoutMs, request.deadline - Date.now());
    if (budgetMs <= 0) return { kind: 'network', reason: 'no time left before the deadline' };
    let response: Response;
    try {
      response = await sending.run(markSent, () =>
        http(url, {
          method: request.method,
          headers: {
            authorization: authorizationOf(credentials),
            accept: 'application/json',
            ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
          signal: AbortSignal.timeout(budgetMs),
        }),
      );
    } catch (error: unknown) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      return {
        kind: 'network',
        reason: timedOut ? `no answer within ${budgetMs} ms` : networkReason(error),
      };
    }
    const body: unknown = await response.json().catch(() => undefined);
    const gongRequestId = requestIdOf(body) ?? response.headers.get('x-traceid') ?? 'unknown';
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
    return {
      kind: 'status',
      status: response.status,
      body,
      gongRequestId,
      ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
    };
  }

  function backoff(retry: number): number {
    // Full jitter: retries from many containers spread out instead of arriving together.
    return randomInt(0, Math.min(8_000, backoffBaseMs * 2 ** (retry + 1)) + 1);
  }

  const requester: GongRequester = async (request) => {
    const call = `${request.method} ${request.path}`;
    let transientRetries = 0;
    let rateLimitRetries = 0;
    let refreshedCredentials = false;
    let attempted = false;
    // Waits only if the wait ends before the deadline; says whether it waited.
    const waited = async (ms: number) => {
      if (Date.now() + ms >= request.deadline) return false;
      await sleep(ms);
      return true;
    };
    for (;;) {
      let credentials: GongCredentials;
      try {
        credentials = await options.credentials(refreshedCredentials ? { forceFetch: true } : {});
      } catch (error: unknown) {
        const message = error instanceof Error ? error.message : 'Gong credentials unavailable';
        return { kind: 'failed', code: 'GONG_CREDENTIALS', message };
      }
      try {
        await pacer.acquire(request.deadline, request.priority ?? 'person', { retry: attempted });
        attempted = true;
      } catch (error: unknown) {
        if (error instanceof BudgetSpentError) {
          // The error's own words: background work stops at its share, people at the whole budget.
          logger.warn(error.message, {
            priority: error.priority,
            renewsAt: new Date(error.renewsAt).toISOString(),
          });
          return {
            kind: 'failed',
            code: 'GONG_BUDGET_SPENT',
            message: error.message,
            retryAfterSeconds: Math.max(1, Math.ceil((error.renewsAt - Date.now()) / 1000)),
          };
        }
        if (!(error instanceof SlotUnavailableError)) {
          // The pacer's table failed: this request fails, the rest of a bulk check carries on.
          logger.error('Could not take a Gong call slot', { error: describeError(error) });
          return {
            kind: 'failed',
            code: 'GONG_UNAVAILABLE',
            message: `Could not take a Gong call slot for ${call}: ${describeError(error)}`,
          };
        }
        return {
          kind: 'failed',
          code: 'GONG_RATE_LIMITED',
          message: `Could not call ${call}: ${error.message}`,
          retryAfterSeconds: Math.ceil(error.waitMs / 1000),
        };
      }
      options.metrics?.gongCall();
      const result = await attempt(credentials, request);

      if (result.kind === 'network') {
        const message = `Gong did not answer ${call}: ${result.reason}`;
        if (transientRetries >= maxRetries) return { kind: 'failed', code: 'GONG_UNAVAILABLE', message };
        if (await waited(backoff(transientRetries++))) continue;
        return { kind: 'failed', code: 'GONG_UNAVAILABLE', message: `${message}; no time left to retry` };
      }

      const { status, gongRequestId } = result;
      const said = `Gong answered ${status} to ${call} (requestId ${gongRequestId})`;
      if (status === 429) {
        const seconds = result.retryAfterSeconds ?? 1;
        options.metrics?.gongRateLimited();
        // Every container waits it out, not only this one: they share Gong's limit.
        await pacer.pauseUntil(Date.now() + seconds * 1000);
        logger.warn('Gong rate limited us', {
          gongRequestId,
          path: request.path,
          retryAfterSeconds: seconds,
        });
        if (rateLimitRetries >= maxRateLimitRetries) {
          const message = `${said}; gave up after ${rateLimitRetries} retries`;
          return { kind: 'failed', code: 'GONG_RATE_LIMITED', message, retryAfterSeconds: seconds };
        }
        rateLimitRetries++;
        if (await waited(seconds * 1000)) continue;
        const message = `${said}: retry after ${seconds} s, beyond this invocation's time`;
        return { kind: 'failed', code: 'GONG_RATE_LIMITED', message, retryAfterSeconds: seconds };
      }
      if (status >= 500 || status === 408) {
        logger.warn('Gong failed; retrying', { gongRequestId, status, attempt: transientRetries + 1 });
        const message = `${said}${detailOf(result.body)}`;
        if (transientRetries >= maxRetries) return { kind: 'failed', code: 'GONG_UNAVAILABLE', message };
        if (await waited(backoff(transientRetries++))) continue;
        return { kind: 'failed', code: 'GONG_UNAVAILABLE', message: `${message}; no time left to retry` };
      }
      if (status === 401 && !refreshedCredentials) {
        refreshedCredentials = true;
        logger.warn('Gong refused our credentials; re-reading the secret once', { gongRequestId });
        continue;
      }
      return { kind: 'answered', status, body: result.body, gongRequestId };
    }
  };
  requester.prepare = (priority, calls) => {
    // Cached once read; a failure here is met again, and reported, by the call itself.
    void options.credentials().catch(() => undefined);
    pacer.prepare?.(priority, calls);
    // Node loads fetch's implementation on its first use, tens of milliseconds on a cold container:
    // load it now, while the check's first reads and claims are in flight, not after the first slot.
    if (!options.fetch) warmFetch();
  };
  return requester;
}

/** Gong's own error texts (`{errors: [...]}`) as a suffix for our messages, or nothing. */
export function detailOf(body: unknown): string {
  const errors = errorsOf(body);
  return errors.length > 0 ? `: ${errors.join('; ')}` : '';
}

/** The `errors` array of Gong's error shape, or empty. */
export function errorsOf(body: unknown): string[] {
  if (body === null || typeof body !== 'object' || !('errors' in body) || !Array.isArray(body.errors))
    return [];
  return body.errors.filter((error): error is string => typeof error === 'string');
}

/** The Authorization header for the credentials: Basic for an access key pair, Bearer for a token. */
function authorizationOf(credentials: GongCredentials): string {
  return credentials.kind === 'bearer'
    ? `Bearer ${credentials.accessToken}`
    : `Basic ${Buffer.from(`${credentials.accessKey}:${credentials.accessKeySecret}`).toString('base64')}`;
}

function requestIdOf(body: unknown): string | undefined {
  if (
    body !== null &&
    typeof body === 'object' &&
    'requestId' in body &&
    typeof body.requestId === 'string'
  ) {
    return body.requestId;
  }
  return undefined;
}

/** Retry-After in seconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  // An HTTP date names its day and month; anything else (a negative number, say) is unreadable.
  const at = /[a-z]/i.test(header) ? Date.parse(header) : Number.NaN;
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

function networkReason(error: unknown): string {
  if (!(error instanceof Error)) return 'network error';
  const cause =
    error.cause instanceof Error
      ? ` (${(error.cause as NodeJS.ErrnoException).code ?? error.cause.name})`
      : '';
  return `${error.message}${cause}`;
}

/**
 * Why Gong answered 403, from its own error text: the endpoint in limited release (only Gong can
 * enable it) or a scope the credentials lack (the company's Gong admin grants it).
 */
export function explainForbidden(body: unknown, options: { path: string; scope: string }): string {
  const text = errorsOf(body).join(' ');
  const csm = `the endpoint is in limited release: ask your Gong CSM to enable ${options.path} for the company`;
  const scope = `the credentials lack the scope ${options.scope}: ask your Gong admin to add it to the API key or app`;
  if (/limited release|not enabled|contact your csm/i.test(text)) return csm;
  if (/scope|permission|not authori[sz]ed|access denied|insufficient/i.test(text)) return scope;
  return `either ${csm}, or ${scope}`;
}

let fetchWarmed = false;
/** Runs fetch once on a `data:` URL: no network, but its code is then loaded. */
function warmFetch(): void {
  if (fetchWarmed) return;
  fetchWarmed = true;
  fetch('data:,')
    .then((response) => response.arrayBuffer())
    .catch(() => undefined);
}
