import { setMaxListeners } from 'node:events';
import { Agent, createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { listen } from './http-server.ts';

/** What a fault does to a request (README "Testing": the storage fault proxy). */
export type DynamoFaultKind = 'error500' | 'throttle' | 'dropAfterApply' | 'dropBeforeApply' | 'delay';

/** One fault: which requests it hits, how often, and for how many. */
export interface DynamoFaultRule {
  kind: DynamoFaultKind;
  /** DynamoDB operations it hits (`PutItem`, `UpdateItem`, `BatchWriteItem`, `Query`…); all when absent. */
  operations?: readonly string[];
  /** Chance (0..1) that a matching request is hit; 1 when absent. */
  probability?: number;
  /** Hits at most this many matching requests, then stays quiet; no limit when absent. */
  count?: number;
  /** `delay` only: milliseconds added before forwarding (default 100). */
  delayMs?: number;
  /** `throttle` only: the error DynamoDB answers with (default ProvisionedThroughputExceededException). */
  throttleError?: 'ProvisionedThroughputExceededException' | 'ThrottlingException';
}

/** What the proxy has seen since it started. */
export interface DynamoFaultStats {
  /** Requests received, by operation (`unknown` for a request without a DynamoDB target). */
  requests: Record<string, number>;
  /** Faults injected, by kind. */
  faults: Record<DynamoFaultKind, number>;
  /** Requests passed on to the upstream server (answered or dropped after it applied them). */
  forwarded: number;
}

/** A running fault proxy in front of a DynamoDB-compatible server. */
export interface DynamoFaultProxy {
  /** `http://127.0.0.1:port`: what `AWS_ENDPOINT_URL_DYNAMODB` points at. */
  url: string;
  port: number;
  /** The seed of the random draws: pass it back as `seed` to replay a run. */
  seed: number;
  /** Replaces the active rules; each rule's `count` starts afresh. */
  setFaults(rules: readonly DynamoFaultRule[]): void;
  clearFaults(): void;
  stats(): DynamoFaultStats;
  /** Stops listening and closes every socket, the upstream ones too; safe to call more than once. */
  close(): Promise<void>;
}

interface ActiveRule {
  rule: DynamoFaultRule;
  left: number;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';
// Headers that describe one hop, not the answer: the proxy sends a whole buffered body itself.
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/**
 * Starts an HTTP proxy on 127.0.0.1 that forwards DynamoDB JSON-protocol requests to `upstream`
 * unchanged, except where a fault rule hits: then it answers 500 or a throttling 400 itself, drops
 * the connection before or after the upstream applied the request, or delays it.
 * Rules are tried in order; every `delay` that hits adds up, the first other rule that hits decides.
 */
export async function startDynamoFaultProxy(options: {
  upstream: string;
  port?: number;
  /** Seeds the draws for `probability` rules, so a failing run can be replayed; random when absent. */
  seed?: number;
}): Promise<DynamoFaultProxy> {
  const upstream = new URL(options.upstream);
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  const random = mulberry32(seed);
  const agent = new Agent({ keepAlive: true });
  const closing = new AbortController();
  // Every request in flight (held by a delay or forwarded) listens on this one signal, so a busy
  // test's dozens at once are expected, not a leak: no warning at Node's default of 10.
  setMaxListeners(0, closing.signal);
  let rules: ActiveRule[] = [];
  const requests: Record<string, number> = {};
  const faults: Record<DynamoFaultKind, number> = {
    error500: 0,
    throttle: 0,
    dropAfterApply: 0,
    dropBeforeApply: 0,
    delay: 0,
  };
  let forwarded = 0;

  // Draws happen when a request arrives, in arrival order, so one seed gives one sequence of faults
  // (only rules with a probability draw, so adding a count-only rule does not shift the sequence).
  function pick(operation: string): { delayMs: number; fault: DynamoFaultRule | undefined } {
    let delayMs = 0;
    for (const active of rules) {
      const { rule } = active;
      if (active.left <= 0) continue;
      if (rule.operations && !rule.operations.includes(operation)) continue;
      if (rule.probability !== undefined && random() >= rule.probability) continue;
      active.left -= 1;
      faults[rule.kind] += 1;
      if (rule.kind === 'delay') {
        delayMs += rule.delayMs ?? 100;
        continue;
      }
      return { delayMs, fault: rule };
    }
    return { delayMs, fault: undefined };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBytes(req);
    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : 'unknown';
    requests[operation] = (requests[operation] ?? 0) + 1;
    const { delayMs, fault } = pick(operation);
    if (delayMs > 0) await sleep(delayMs, undefined, { signal: closing.signal });
    switch (fault?.kind) {
      case 'error500':
        return answerError(
          res,
          500,
          'com.amazonaws.dynamodb.v20120810#InternalServerError',
          'Internal server error',
        );
      case 'throttle':
        return fault.throttleError === 'ThrottlingException'
          ? answerError(
              res,
              400,
              'com.amazon.coral.availability#ThrottlingException',
              'Rate of requests exceeds the allowed throughput.',
            )
          : answerError(
              res,
              400,
              'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
              'The level of configured provisioned throughput for the table was exceeded.',
            );
      case 'dropBeforeApply':
        req.socket.destroy();
        return;
    }
    const answer = await forward(req, body);
    forwarded += 1;
    if (fault?.kind === 'dropAfterApply') {
      // The upstream has answered, so the write is applied; the client only ever sees a reset.
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
    }
    headers['content-length'] = String(answer.body.length);
    res.writeHead(answer.status, headers);
    res.end(answer.body);
  }

  function forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> {
    const headers = { ...req.headers, host: upstream.host, 'content-length': String(body.length) };
    delete headers.connection;
    delete headers['transfer-encoding'];
    return new Promise((done, failed) => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers,
          agent,
          signal: closing.signal,
        },
        (answer) => {
          readBytes(answer).then(
            (bytes) => done({ status: answer.statusCode ?? 502, headers: answer.headers, body: bytes }),
            failed,
          );
        },
      );
      out.on('error', failed);
      out.end(body);
    });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // The upstream failed or the proxy is closing: the client sees a dropped connection, as it would.
      req.socket.destroy();
    });
  });
  const listening = await listen(server, { port: options.port ?? 0 });
  const port = Number(new URL(listening.url).port);

  return {
    url: listening.url,
    port,
    seed,
    setFaults(next) {
      for (const rule of next) {
        if (rule.probability !== undefined && !(rule.probability >= 0 && rule.probability <= 1))
          throw new RangeError(`fault probability must be within 0..1, got ${rule.probability}`);
        if (rule.count !== undefined && !(Number.isInteger(rule.count) && rule.count >= 0))
          throw new RangeError(`fault count must be a whole number ≥ 0, got ${rule.count}`);
      }
      rules = next.map((rule) => ({ rule, left: rule.count ?? Number.POSITIVE_INFINITY }));
    },
    clearFaults() {
      rules = [];
    },
    stats() {
      return { requests: { ...requests }, faults: { ...faults }, forwarded };
    },
    async close() {
      closing.abort();
      await listening.close();
      agent.destroy();
    },
  };
}

function answerError(res: ServerResponse, status: number, type: string, message: string): void {
  const body = JSON.stringify({ __type: type, message: `${message} (injected by the fault proxy)` });
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-requestid': crypto.randomUUID(),
  });
  res.end(body);
}

function readBytes(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((done, failed) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => done(Buffer.concat(chunks)));
    stream.on('error', failed);
  });
}

// A small seedable generator (mulberry32): Math.random cannot be replayed.
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
