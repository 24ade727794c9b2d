import { setTimeout as sleep } from 'node:timers/promises';

/** A Web API call or response_url post that Slack refused; `code` is Slack's error word (`user_not_found`, `http_404`…). */
export class SlackApiError extends Error {
  override name = 'SlackApiError';
  readonly code: string;
  constructor(target: string, code: string, options?: { cause?: unknown }) {
    super(
      `Slack answered ${code} to ${target}`,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.code = code;
  }
}

/** The message shape Slack takes on chat.postMessage and response_url: Block Kit plus a plain-text fallback. */
export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

/** The part of a Slack user we use. */
export interface SlackUser {
  id: string;
  name: string;
  email?: string;
  isBot: boolean;
  /** A workspace admin or owner (users.info's is_admin / is_owner). */
  isAdmin: boolean;
}

export interface SlackApi {
  /** Calls a Web API method; throws SlackApiError when Slack answers `ok: false`. */
  call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** users.info: the profile email needs the `users:read.email` scope, and bots and some guests have none. */
  getUser(userId: string): Promise<SlackUser>;
  /** chat.postMessage to a channel. */
  postMessage(channel: string, message: SlackMessage): Promise<void>;
  /** views.publish of a user's Home tab (no scope needed; the app's Home tab must be enabled). */
  publishHome(userId: string, view: { type: 'home'; blocks: unknown[] }): Promise<void>;
}

interface SlackApiOptions {
  /** Web API base ending in a slash (`https://slack.com/api/`). */
  baseUrl: string;
  botToken: () => Promise<string>;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** Longest Retry-After (seconds) worth waiting for on a 429 before giving up. */
  maxRetryAfterSeconds?: number;
}

/** A small Web API client over global fetch: form-encoded calls, bearer token, 429 Retry-After honoured. */
export function createSlackApi(options: SlackApiOptions): SlackApi {
  const fetchFn = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxRetryAfter = options.maxRetryAfterSeconds ?? 10;

  async function call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(args)) {
      if (value !== undefined) form.set(key, typeof value === 'string' ? value : JSON.stringify(value));
    }
    const token = await options.botToken();
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetchFn(new URL(method, options.baseUrl), {
          method: 'POST',
          // Form encoding works for every method; JSON bodies are refused by the read methods (users.info).
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: form,
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error: unknown) {
        throw new SlackApiError(method, error instanceof Error ? error.name : 'network_error', {
          cause: error,
        });
      }
      if (response.status === 429) {
        const retryAfter = Number(response.headers.get('retry-after') ?? '1');
        await response.body?.cancel();
        if (attempt >= 3 || !(retryAfter <= maxRetryAfter)) throw new SlackApiError(method, 'ratelimited');
        await sleep(Math.max(1, retryAfter) * 1000);
        continue;
      }
      const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (!response.ok || !body) throw new SlackApiError(method, `http_${response.status}`);
      if (body.ok !== true)
        throw new SlackApiError(method, typeof body.error === 'string' ? body.error : 'not_ok');
      return body;
    }
  }

  return {
    call,
    async getUser(userId) {
      const body = await call('users.info', { user: userId });
      const user = (body.user ?? {}) as {
        id?: string;
        name?: string;
        is_bot?: boolean;
        is_admin?: boolean;
        is_owner?: boolean;
        profile?: { email?: string; display_name?: string; real_name?: string };
      };
      const email = user.profile?.email?.trim();
      return {
        id: user.id ?? userId,
        name: user.profile?.display_name || user.profile?.real_name || user.name || userId,
        isBot: user.is_bot === true,
        isAdmin: user.is_admin === true || user.is_owner === true,
        ...(email ? { email } : {}),
      };
    },
    async postMessage(channel, message) {
      await call('chat.postMessage', { channel, text: message.text, blocks: message.blocks });
    },
    async publishHome(userId, view) {
      await call('views.publish', { user_id: userId, view });
    },
  };
}

/** A response_url the worker will not post to: off Slack's hosts, or not a command's or a click's. */
export class ResponseUrlRefusedError extends Error {
  override name = 'ResponseUrlRefusedError';
}

/**
 * Posts a reply to a slash command's or a click's response_url (valid 30 minutes, 5 posts). Ephemeral
 * unless told: only the caller sees it, as with the ack. Only URLs under one of `allowed` (origin and
 * path prefix: Slack's `/commands/` and `/actions/`) are posted to: the URL arrives in the job, and the
 * worker must not become a way to make requests anywhere else — not even to another workspace's
 * incoming webhook (`/services/…`) on the same host.
 */
export async function postToResponseUrl(
  responseUrl: string,
  message: SlackMessage & { response_type?: 'ephemeral' | 'in_channel'; replace_original?: boolean },
  options: { allowed: readonly string[]; fetch?: typeof fetch; timeoutMs?: number },
): Promise<void> {
  const url = allowedUrl(responseUrl, options.allowed);
  const fetchFn = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', ...message }),
      // A redirect would lead the post off the allowed origins.
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
  } catch (error: unknown) {
    throw new SlackApiError('response_url', error instanceof Error ? error.name : 'network_error', {
      cause: error,
    });
  }
  const text = await response.text().catch(() => '');
  // Slack answers 200 "ok", or 404 with `expired_url` / `used_url` (and 400 `invalid_blocks`…).
  if (!response.ok)
    throw new SlackApiError('response_url', text.trim().slice(0, 60) || `http_${response.status}`);
}

/** The URL, normalised (`..` resolved), when it lies under one of the allowed prefixes; else throws. */
function allowedUrl(raw: string, allowed: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ResponseUrlRefusedError("Not posting to a response_url that is not a URL: not one of Slack's");
  }
  const ok =
    url.username === '' &&
    url.password === '' &&
    allowed.some((prefix) => {
      const base = new URL(prefix);
      return url.origin === base.origin && url.pathname.startsWith(base.pathname);
    });
  if (!ok) {
    throw new ResponseUrlRefusedError(
      `Not posting to response_url at ${url.origin}${url.pathname.split('/', 2).join('/')}/…: not one of Slack's origins and paths`,
    );
  }
  return url.href;
}
