import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { parseArgs } from 'node:util';
import { listen, readBody, runAsScript } from '#local/http-server.ts';
import { createFaultQueue, type SandboxFault } from './gong-sandbox/faults.ts';
import {
  isAuthorized,
  isPositiveInteger,
  isSandboxFault,
  isSandboxUser,
  parseEmails,
  parseJson,
} from './gong-sandbox/requests.ts';
import { createAnswerScripts, type ScriptedAnswer } from './gong-sandbox/scripts.ts';
import { createTokenBucket } from './gong-sandbox/token-bucket.ts';
import {
  decodeOffset,
  directoryEntry,
  EXAMPLE_USERS,
  encodeOffset,
  type SandboxUser,
  userByRule,
} from './gong-sandbox/users.ts';

export type { SandboxFault } from './gong-sandbox/faults.ts';
export { MAX_EMAILS_PER_CALL } from './gong-sandbox/requests.ts';
export type { ScriptedAnswer } from './gong-sandbox/scripts.ts';
export { EXAMPLE_USERS, type SandboxUser } from './gong-sandbox/users.ts';

/** How to start the sandbox; every field has a default. */
export interface GongSandboxOptions {
  host?: string;
  port?: number;
  rps?: number;
  burst?: number;
  latencyMs?: number;
  accessKey?: string;
  accessKeySecret?: string;
  accessToken?: string;
  users?: SandboxUser[];
  /** Users per `GET /v2/users` page (Gong pages by 100). */
  usersPageSize?: number;
}

/** One Gong API call as the sandbox saw it: when it arrived (epoch ms, sub-ms), where, and what it answered. */
export interface SandboxArrival {
  at: number;
  path: string;
  status?: number;
}

/** Counters over calls to the status endpoint (admin calls and unknown routes are not counted). */
export interface SandboxStats {
  /** Every status and users call in order of arrival, stamped before the body is read. */
  arrivals: SandboxArrival[];
  calls: number;
  ok: number;
  rateLimited: number;
  byStatus: Record<number, number>;
  emailsPerCall: number[];
  maxConcurrent: number;
}

/** A running sandbox. */
export interface GongSandbox {
  url: string;
  stats: SandboxStats;
  /** Calls to `GET /v2/users` (kept apart from `stats`, which counts the status endpoint only). */
  usersStats: { calls: number };
  resetStats(): void;
  setUser(user: SandboxUser): void;
  injectFault(fault: SandboxFault, times?: number): void;
  /** The next answers for one user, one per status call naming them, each after its delay. */
  scriptUser(email: string, answers: ScriptedAnswer[]): void;
  close(): Promise<void>;
}

export const STATUS_PATH = '/v2/meetings/integration/status';
export const USERS_PATH = '/v2/users';

// Gong's documented wording where it has one (403, 429); plausible text elsewhere.
const UNAUTHORIZED = 'Unauthorized: missing or invalid access key, secret or token';
const RATE_LIMITED = 'API request limit exceeded.';
const DEFAULT_ERRORS: Record<number, string> = {
  400: 'An error has occurred',
  401: UNAUTHORIZED,
  403: 'This API endpoint is in Limited release - contact your CSM for more information.',
  429: RATE_LIMITED,
  500: 'An internal error has occurred. Please try again later.',
  503: 'The service is temporarily unavailable. Please try again later.',
};

/** Starts a loopback stand-in for Gong's `POST /v2/meetings/integration/status`. */
export async function startGongSandbox(options: GongSandboxOptions = {}): Promise<GongSandbox> {
  const rps = options.rps ?? 3;
  const burst = options.burst ?? rps;
  const latencyMs = options.latencyMs ?? 0;
  if (!(rps > 0) || !(burst >= 1))
    throw new RangeError(`rps must be > 0 and burst >= 1 (got ${rps}, ${burst})`);
  const basic = `${options.accessKey ?? 'sandbox-key'}:${options.accessKeySecret ?? 'sandbox-secret'}`;
  const bearer = options.accessToken ?? 'sandbox-token';

  const users = new Map<string, SandboxUser>();
  for (const user of [...EXAMPLE_USERS, ...(options.users ?? [])]) users.set(user.email.toLowerCase(), user);

  const stats: SandboxStats = {
    arrivals: [],
    calls: 0,
    ok: 0,
    rateLimited: 0,
    byStatus: {},
    emailsPerCall: [],
    maxConcurrent: 0,
  };
  const usersStats = { calls: 0 };
  const usersPageSize = options.usersPageSize ?? 100;
  const faults = createFaultQueue();
  const timers = new Set<NodeJS.Timeout>();
  let inFlight = 0;
  const takeToken = createTokenBucket(rps, burst);
  const scripts = createAnswerScripts();

  const sleep = (ms: number): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : new Promise((done) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            done();
          }, ms);
          timers.add(timer);
        });

  // Every Gong-shaped answer carries its requestId in the body and in `x-traceid`, as Gong does.
  const answer = async (
    res: ServerResponse,
    status: number,
    body: Record<string, unknown> | ((requestId: string) => string),
    headers: Record<string, string> = {},
  ): Promise<void> => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
    if (status === 200) stats.ok += 1;
    await sleep(latencyMs);
    const requestId = newRequestId();
    const text = typeof body === 'function' ? body(requestId) : JSON.stringify({ requestId, ...body });
    send(res, status, text, { 'x-traceid': requestId, ...headers });
  };

  const answerError = (
    res: ServerResponse,
    status: number,
    errors: string[],
    headers?: Record<string, string>,
  ) => answer(res, status, { errors }, headers);

  const handleStatusCall = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.calls += 1;
    inFlight += 1;
    stats.maxConcurrent = Math.max(stats.maxConcurrent, inFlight);
    res.once('close', () => {
      inFlight -= 1;
    });
    const raw = await readBody(req);

    if (!isAuthorized(req.headers.authorization, basic, bearer)) {
      return answerError(res, 401, [UNAUTHORIZED]);
    }

    // Faults come after auth but skip the limiter, so a test gets exactly the misbehaviour it queued.
    const fault = faults.take();
    if (fault?.kind === 'hang') return;
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {};
      const retryAfter = fault.retryAfterSeconds ?? (fault.status === 429 ? 1 : undefined);
      if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
      const errors = fault.errors ?? [DEFAULT_ERRORS[fault.status] ?? STATUS_CODES[fault.status] ?? 'Error'];
      return answerError(res, fault.status, errors, headers);
    }
    if (fault?.kind === 'garbage') {
      const { body } = fault;
      return answer(res, 200, (requestId) => body ?? JSON.stringify({ requestId, users: 'nope' }));
    }
    if (fault?.kind === 'slow') await sleep(fault.ms);

    if (!fault) {
      const waitSeconds = takeToken();
      if (waitSeconds > 0) {
        stats.rateLimited += 1;
        return answerError(res, 429, [RATE_LIMITED], { 'retry-after': String(waitSeconds) });
      }
    }

    const parsed = parseEmails(raw);
    if (typeof parsed === 'string') return answerError(res, 400, [parsed]);

    const omitted = new Set(
      fault?.kind === 'omit' ? (fault.emails ?? parsed.slice(0, 1)).map((email) => email.toLowerCase()) : [],
    );
    const seen = new Set<string>();
    const answered: SandboxUser[] = [];
    const scripted = scripts.take(parsed);
    for (const email of parsed) {
      const key = email.toLowerCase();
      if (seen.has(key) || omitted.has(key)) continue;
      seen.add(key);
      const { email: _known, active: _active, ...status } = users.get(key) ?? { email, ...userByRule(key) };
      const { active: _scriptedActive, ...script } = scripted.answers.get(key) ?? {};
      answered.push({ email, ...(scripted.answers.has(key) ? script : status) } as SandboxUser);
    }
    await sleep(scripted.delayMs);
    stats.emailsPerCall.push(parsed.length);
    return answer(res, 200, { users: shuffle(answered) });
  };

  // Gong's "List all users": the users the sandbox knows by name that exist, in pages with a cursor.
  const handleUsersList = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    usersStats.calls += 1;
    await readBody(req);
    if (!isAuthorized(req.headers.authorization, basic, bearer)) {
      return answerError(res, 401, [UNAUTHORIZED]);
    }
    const waitSeconds = takeToken();
    if (waitSeconds > 0) {
      stats.rateLimited += 1;
      return answerError(res, 429, [RATE_LIMITED], { 'retry-after': String(waitSeconds) });
    }
    const cursor = url.searchParams.get('cursor');
    const offset = cursor === null ? 0 : decodeOffset(cursor);
    if (offset === undefined) return answerError(res, 400, ['Invalid cursor']);
    const listed = [...users.values()].filter((user) => user.exists);
    const page = listed.slice(offset, offset + usersPageSize);
    const next = offset + page.length;
    return answer(res, 200, {
      records: {
        totalRecords: listed.length,
        currentPageSize: page.length,
        currentPageNumber: Math.floor(offset / usersPageSize),
        ...(next < listed.length ? { cursor: encodeOffset(next) } : {}),
      },
      users: page.map(directoryEntry),
    });
  };

  const handleAdmin = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const raw = await readBody(req);
    const route = `${req.method} ${path}`;
    if (route === 'GET /_sandbox/stats') return sendJson(res, 200, stats);
    if (route === 'POST /_sandbox/reset-stats') {
      sandbox.resetStats();
      return sendJson(res, 200, stats);
    }
    const body = parseJson(raw);
    if (route === 'POST /_sandbox/users') {
      if (!isSandboxUser(body)) return sendJson(res, 400, { error: 'body must be a SandboxUser' });
      sandbox.setUser(body);
      return sendJson(res, 200, body);
    }
    if (route === 'POST /_sandbox/faults') {
      const { fault, times } = (body ?? {}) as { fault?: unknown; times?: unknown };
      if (!isSandboxFault(fault)) return sendJson(res, 400, { error: 'fault must be a SandboxFault' });
      if (times !== undefined && !isPositiveInteger(times)) {
        return sendJson(res, 400, { error: 'times must be a positive integer' });
      }
      sandbox.injectFault(fault, times ?? 1);
      return sendJson(res, 200, { queued: faults.queued() });
    }
    return sendJson(res, 404, { error: `no admin route ${route}` });
  };

  const server = createServer((req, res) => {
    // Stamped on arrival, before anything else runs: the gaps between calls as Gong would see them.
    const at = performance.timeOrigin + performance.now();
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    if ((req.method === 'POST' && path === STATUS_PATH) || (req.method === 'GET' && path === USERS_PATH)) {
      const arrival: SandboxArrival = { at, path };
      stats.arrivals.push(arrival);
      res.once('finish', () => {
        arrival.status = res.statusCode;
      });
    }
    const handling = path.startsWith('/_sandbox/')
      ? handleAdmin(req, res, path)
      : req.method === 'POST' && path === STATUS_PATH
        ? handleStatusCall(req, res)
        : req.method === 'GET' && path === USERS_PATH
          ? handleUsersList(req, res, url)
          : readBody(req).then(() => sendGongError(res, 404, `No such endpoint: ${req.method} ${path}`));
    handling.catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      sendGongError(res, 500, message);
    });
  });

  const listening = await listen(server, options);

  const sandbox: GongSandbox = {
    url: listening.url,
    stats,
    usersStats,
    resetStats() {
      // In place, so callers holding `stats` keep seeing live numbers.
      stats.arrivals.length = 0;
      stats.calls = 0;
      stats.ok = 0;
      stats.rateLimited = 0;
      for (const status of Object.keys(stats.byStatus)) delete stats.byStatus[Number(status)];
      stats.emailsPerCall.length = 0;
      stats.maxConcurrent = inFlight;
      usersStats.calls = 0;
    },
    setUser(user) {
      users.set(user.email.toLowerCase(), { ...user });
    },
    scriptUser(email, answers) {
      scripts.set(email, answers);
    },
    injectFault(fault, times = 1) {
      if (!isPositiveInteger(times)) throw new RangeError(`times must be a positive integer (got ${times})`);
      faults.push(fault, times);
    },
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return listening.close();
    },
  };

  return sandbox;
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

function sendGongError(res: ServerResponse, status: number, message: string): void {
  const requestId = newRequestId();
  send(res, status, JSON.stringify({ requestId, errors: [message] }), { 'x-traceid': requestId });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), {});
}

// Gong's request ids look like `4al018gzaztcr8nbukw`: 19 lower-case alphanumerics.
function newRequestId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return Array.from(randomBytes(19), (byte) => alphabet[byte % alphabet.length]).join('');
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

async function main(): Promise<{ close(): Promise<void> }> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      rps: { type: 'string' },
      burst: { type: 'string' },
      latency: { type: 'string' },
    },
  });
  const number = (name: string, text: string | undefined): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0)
      throw new Error(`--${name} must be a non-negative number (got ${text})`);
    return value;
  };
  const options: GongSandboxOptions = {};
  if (values.host !== undefined) options.host = values.host;
  const port = number('port', values.port);
  if (port !== undefined) options.port = port;
  const rps = number('rps', values.rps);
  if (rps !== undefined) options.rps = rps;
  const burst = number('burst', values.burst);
  if (burst !== undefined) options.burst = burst;
  const latencyMs = number('latency', values.latency);
  if (latencyMs !== undefined) options.latencyMs = latencyMs;

  const sandbox = await startGongSandbox(options);
  console.log(`Gong sandbox listening on ${sandbox.url}`);
  console.log(`  POST ${sandbox.url}${STATUS_PATH}`);
  console.log(`  GET  ${sandbox.url}${USERS_PATH}`);
  console.log(
    '  GONG_ACCESS_KEY=sandbox-key GONG_ACCESS_KEY_SECRET=sandbox-secret (or Bearer sandbox-token)',
  );
  console.log(`  example users: ${EXAMPLE_USERS.map((user) => user.email).join(', ')}`);
  return sandbox;
}

runAsScript(import.meta.url, main);
