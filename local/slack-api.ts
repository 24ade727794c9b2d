import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { listen, readBody, runAsScript } from '#local/http-server.ts';

/** A workspace member as users.info describes them; no `email` is what Slack gives for bots and some guests. */
export interface SlackUserProfile {
  email?: string;
  name?: string;
  realName?: string;
  isBot?: boolean;
  /** A workspace admin (users.info's is_admin). */
  isAdmin?: boolean;
}

/** One Web API call as it arrived: the method and its arguments (form fields, or JSON). */
export interface SlackApiCall {
  method: string;
  body: Record<string, unknown>;
}

/** One post to a response_url: its id (the last path segment) and the JSON message. */
export interface SlackResponsePost {
  id: string;
  body: Record<string, unknown>;
}

/** Options for the stand-in; every field has a default. */
export interface SlackApiOptions {
  host?: string;
  port?: number;
  /** The bot token calls must carry (`Authorization: Bearer …` or a `token` field). */
  botToken?: string;
  users?: Record<string, SlackUserProfile>;
}

/**
 * A running stand-in for Slack: the Web API under `url`, and response_url endpoints under `responseUrl()`
 * (POST records a message, GET answers `{posts: [...]}` with the ones recorded so far).
 */
export interface SlackApiStandIn {
  /** Web API base, ending in `/api/`: what SLACK_API_URL takes. */
  url: string;
  calls: SlackApiCall[];
  responses: SlackResponsePost[];
  /** The Home tab last published (views.publish) per user id. */
  homeViews: Map<string, { type: string; blocks: unknown[] }>;
  setUser(id: string, profile: SlackUserProfile): void;
  /**
   * The next call to `method` answers `{ok: false, error}` (or HTTP 429 with Retry-After when error is
   * `ratelimited`); method `response_url` makes the next response_url post answer HTTP 400 `error`.
   */
  failNext(method: string, error: string, times?: number): void;
  /**
   * A fresh response_url that records what is posted to it; like Slack's, it takes 5 posts. Slack's
   * own live under /commands/ (a command's) and /actions/ (a click's); /responses/ is the stand-in's.
   */
  responseUrl(id?: string, kind?: 'responses' | 'commands' | 'actions'): string;
  /** Resolves once `count` posts in total have reached response URLs (rejects after `timeoutMs`). */
  waitForResponses(count: number, timeoutMs?: number): Promise<SlackResponsePost[]>;
  close(): Promise<void>;
}

export const DEFAULT_BOT_TOKEN = 'xoxb-local-bot-token';

/** Members the stand-in knows from the start; their emails match the Gong sandbox's example users. */
export const EXAMPLE_SLACK_USERS: Record<string, SlackUserProfile> = {
  U0ADA: { email: 'ada@example.com', name: 'ada', realName: 'Ada Lovelace', isAdmin: true },
  U0GRACE: { email: 'grace@example.com', name: 'grace', realName: 'Grace Hopper' },
  U0NOBODY: { email: 'nobody@example.com', name: 'nobody', realName: 'No Body' },
  U0BOT: { name: 'deploybot', realName: 'Deploy Bot', isBot: true },
};

/** Slack allows five posts per response_url. */
const RESPONSE_URL_USES = 5;
const TEAM_ID = 'T0LOCAL';

/** Starts a loopback Slack: users.info, users.lookupByEmail, chat.postMessage, views.publish, auth.test, and response_url collectors. */
export async function startSlackApi(options: SlackApiOptions = {}): Promise<SlackApiStandIn> {
  const botToken = options.botToken ?? DEFAULT_BOT_TOKEN;
  const users = new Map(Object.entries({ ...EXAMPLE_SLACK_USERS, ...options.users }));
  const calls: SlackApiCall[] = [];
  const responses: SlackResponsePost[] = [];
  const homeViews = new Map<string, { type: string; blocks: unknown[] }>();
  const uses = new Map<string, number>();
  const failures: { method: string; error: string; remaining: number }[] = [];
  const waiters = new Set<() => void>();
  let nextResponseId = 0;

  const takeFailure = (method: string): string | undefined => {
    const failure = failures.find((entry) => entry.method === method);
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining <= 0) failures.splice(failures.indexOf(failure), 1);
    return failure.error;
  };

  const handleApi = (req: IncomingMessage, res: ServerResponse, method: string, raw: string) => {
    const body = parseBody(raw, req.headers['content-type']);
    calls.push({ method, body });
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? (typeof body.token === 'string' ? body.token : undefined);
    // Slack answers HTTP 200 with ok:false for almost every error; 429 is the exception.
    if (token === undefined) return sendJson(res, 200, { ok: false, error: 'not_authed' });
    if (token !== botToken) return sendJson(res, 200, { ok: false, error: 'invalid_auth' });
    const failure = takeFailure(method);
    if (failure === 'ratelimited')
      return sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' });
    if (failure) return sendJson(res, 200, { ok: false, error: failure });

    switch (method) {
      case 'auth.test':
        return sendJson(res, 200, { ok: true, team_id: TEAM_ID, user_id: 'U0GONGBOT', bot_id: 'B0GONGBOT' });
      case 'users.info': {
        const id = typeof body.user === 'string' ? body.user : '';
        const user = users.get(id);
        if (!user) return sendJson(res, 200, { ok: false, error: 'user_not_found' });
        return sendJson(res, 200, { ok: true, user: toSlackUser(id, user) });
      }
      case 'users.lookupByEmail': {
        const email = typeof body.email === 'string' ? body.email.toLowerCase() : '';
        const found = [...users].find(([, user]) => user.email?.toLowerCase() === email);
        if (!found) return sendJson(res, 200, { ok: false, error: 'users_not_found' });
        return sendJson(res, 200, { ok: true, user: toSlackUser(found[0], found[1]) });
      }
      case 'chat.postMessage': {
        const channel = typeof body.channel === 'string' ? body.channel : '';
        if (!channel) return sendJson(res, 200, { ok: false, error: 'channel_not_found' });
        if (!body.text && !body.blocks) return sendJson(res, 200, { ok: false, error: 'no_text' });
        if (body.blocks !== undefined && !withinLimits(body.blocks, 50))
          return sendJson(res, 200, { ok: false, error: 'invalid_blocks' });
        const ts = `${Math.floor(Date.now() / 1000)}.${String(calls.length).padStart(6, '0')}`;
        return sendJson(res, 200, {
          ok: true,
          channel,
          ts,
          message: { text: body.text, blocks: body.blocks, ts },
        });
      }
      case 'views.publish': {
        const userId = typeof body.user_id === 'string' ? body.user_id : '';
        const view = body.view as { type?: unknown; blocks?: unknown } | undefined;
        if (!users.has(userId)) return sendJson(res, 200, { ok: false, error: 'invalid_arguments' });
        if (view?.type !== 'home' || !Array.isArray(view.blocks))
          return sendJson(res, 200, { ok: false, error: 'invalid_arguments' });
        // A Home tab holds up to 100 blocks (a message 50).
        if (!withinLimits(view.blocks, 100))
          return sendJson(res, 200, { ok: false, error: 'invalid_blocks' });
        homeViews.set(userId, { type: 'home', blocks: view.blocks });
        return sendJson(res, 200, {
          ok: true,
          view: { id: `V${userId}`, type: 'home', blocks: view.blocks },
        });
      }
      default:
        return sendJson(res, 200, { ok: false, error: 'unknown_method' });
    }
  };

  const handleResponse = (res: ServerResponse, id: string, raw: string) => {
    const used = (uses.get(id) ?? 0) + 1;
    uses.set(id, used);
    if (used > RESPONSE_URL_USES) return sendText(res, 404, 'used_url');
    const body = parseBody(raw, 'application/json');
    if (Object.keys(body).length === 0) return sendText(res, 400, 'invalid_payload');
    const failure = takeFailure('response_url');
    if (failure) return sendText(res, 400, failure);
    if (body.blocks !== undefined && !withinLimits(body.blocks, 50))
      return sendText(res, 400, 'invalid_blocks');
    responses.push({ id, body });
    for (const wake of waiters) wake();
    sendText(res, 200, 'ok');
  };

  const server = createServer((req, res) => {
    readBody(req)
      .then((raw) => {
        const path = new URL(req.url ?? '/', 'http://slack').pathname;
        const api = /^\/api\/([a-zA-Z.]+)$/.exec(path);
        if (api?.[1] && req.method === 'POST') return handleApi(req, res, api[1], raw);
        const response = /^\/(?:responses|commands|actions)\/([\w-]+)$/.exec(path);
        if (response?.[1] && req.method === 'POST') return handleResponse(res, response[1], raw);
        // What was posted to a response_url, for whoever sent the command from outside this process
        // (`npm start` users with curl, the e2e test): [] until the worker has answered.
        if (response?.[1] && req.method === 'GET') {
          const id = response[1];
          return sendJson(res, 200, {
            posts: responses.filter((post) => post.id === id).map((post) => post.body),
          });
        }
        // The Home tab last published for a user, for trying App Home with curl: {view: null} until then.
        const home = /^\/home\/([A-Z0-9]+)$/.exec(path);
        if (home?.[1] && req.method === 'GET')
          return sendJson(res, 200, { view: homeViews.get(home[1]) ?? null });
        sendText(res, 404, 'not_found');
      })
      .catch(() => sendText(res, 500, 'internal_error'));
  });
  const listening = await listen(server, options);
  const base = listening.url;

  return {
    url: `${base}/api/`,
    calls,
    responses,
    homeViews,
    setUser(id, profile) {
      users.set(id, { ...profile });
    },
    failNext(method, error, times = 1) {
      failures.push({ method, error, remaining: times });
    },
    responseUrl(id, kind = 'responses') {
      return `${base}/${kind}/${id ?? `r${++nextResponseId}-${Date.now().toString(36)}`}`;
    },
    waitForResponses(count, timeoutMs = 10_000) {
      return new Promise((done, failed) => {
        const check = () => {
          if (responses.length < count) return;
          cleanup();
          done([...responses]);
        };
        const timer = setTimeout(() => {
          cleanup();
          failed(
            new Error(
              `Timed out after ${timeoutMs} ms waiting for ${count} response_url posts (got ${responses.length})`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: listening.close,
  };
}

function toSlackUser(id: string, user: SlackUserProfile) {
  const name = user.name ?? id.toLowerCase();
  return {
    id,
    team_id: TEAM_ID,
    name,
    real_name: user.realName ?? name,
    deleted: false,
    is_bot: user.isBot === true,
    is_admin: user.isAdmin === true,
    profile: {
      real_name: user.realName ?? name,
      display_name: name,
      ...(user.email ? { email: user.email } : {}),
    },
  };
}

/** The few Block Kit limits Slack refuses a message for most often (`invalid_blocks`): block count and text length. */
function withinLimits(blocks: unknown, maxBlocks: number): boolean {
  if (!Array.isArray(blocks) || blocks.length > maxBlocks) return false;
  return blocks.every((block: { type?: unknown; text?: { text?: unknown } }) => {
    const text = block?.text?.text;
    return typeof block?.type === 'string' && (typeof text !== 'string' || text.length <= 3000);
  });
}

/** Form fields (objects arrive JSON-encoded, as @slack/web-api sends them) or a JSON body. */
function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (contentType?.startsWith('application/json')) {
    try {
      const json = JSON.parse(raw) as unknown;
      return json !== null && typeof json === 'object' ? (json as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  const body: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    body[key] = /^[[{]/.test(value) ? tryJson(value) : value;
  }
  return body;
}

function tryJson(value: string): unknown {
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

async function main(): Promise<{ close(): Promise<void> }> {
  const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' } } });
  const slack = await startSlackApi({
    ...(values.host === undefined ? {} : { host: values.host }),
    ...(values.port === undefined ? {} : { port: Number(values.port) }),
  });
  console.log(`Slack stand-in listening: SLACK_API_URL=${slack.url} SLACK_BOT_TOKEN=${DEFAULT_BOT_TOKEN}`);
  console.log(`  response URLs: ${slack.responseUrl('example')} (posts are printed here)`);
  console.log(`  Home tabs: GET ${slack.url.replace(/\/api\/$/, '')}/home/<user id> (views.publish)`);
  console.log(
    `  users: ${Object.entries(EXAMPLE_SLACK_USERS)
      .map(([id, user]) => `${id} ${user.email ?? '(no email)'}${user.isAdmin ? ' (admin)' : ''}`)
      .join(', ')}`,
  );
  let printed = 0;
  const timer = setInterval(() => {
    for (const post of slack.responses.slice(printed))
      console.log(`response ${post.id}: ${JSON.stringify(post.body)}`);
    printed = slack.responses.length;
  }, 250);
  return {
    close() {
      clearInterval(timer);
      return slack.close();
    },
  };
}

runAsScript(import.meta.url, main);
