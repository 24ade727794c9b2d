import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCAL_STAGE } from '#local/stack.ts';
import { killGroup, type Lifecycle, StartError } from './lifecycle.ts';
import { ROOT } from './paths.ts';

const require = createRequire(import.meta.url);
/** serverless-offline needs a few seconds to load osls and the plugin; a cold machine more. */
const READY_TIMEOUT_MS = 60_000;

export interface Offline {
  child: ChildProcess;
  /** From now on, serverless-offline's output (the functions' logs) goes to our stdout. */
  passThrough(): void;
  output(): string;
}

export function startOffline(env: NodeJS.ProcessEnv, lifecycle: Lifecycle): Offline {
  const child = spawn(
    process.execPath,
    [
      // serverless-offline runs an async invoke (InvocationType Event) without awaiting it, so a
      // function that fails there (slackWorker does, on purpose, to reach its on-failure destination)
      // would be an unhandled rejection: by default it kills serverless-offline, and with it npm start.
      // Warned instead, the failure is printed and the rest keeps running, as it does in AWS.
      '--unhandled-rejections=warn',
      require.resolve('osls/bin/serverless.js'),
      'offline',
      'start',
      '--stage',
      LOCAL_STAGE,
      '--host',
      '127.0.0.1',
      // Hands our environment (endpoints, sandbox credentials, .env) to the functions.
      '--localEnvironment',
      // serverless-offline's JWT authorizer only decodes tokens (and, without --ignoreJWTSignature,
      // fails to start): api verifies signature, issuer, audience and expiry itself (AUTH_VERIFY=local).
      '--noAuth',
    ],
    // Its own process group, so stopping it stops anything it starts too.
    { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pid = child.pid ?? -1;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  lifecycle.started(
    'serverless-offline',
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(pid, 'SIGTERM');
      const quit = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!quit) killGroup(pid, 'SIGKILL');
      await exited;
    },
    { pid, group: true },
  );
  let buffered = '';
  let live = false;
  const collect = (chunk: Buffer, stream: NodeJS.WriteStream) => {
    if (live) stream.write(chunk);
    else buffered += chunk.toString('utf8');
  };
  child.stdout?.on('data', (chunk: Buffer) => collect(chunk, process.stdout));
  child.stderr?.on('data', (chunk: Buffer) => collect(chunk, process.stderr));
  child.once('exit', (code, signal) => {
    if (live && !lifecycle.signal.aborted) {
      lifecycle.requestStop(
        1,
        `serverless-offline stopped (${signal ?? `exit code ${code}`}); stopping everything.`,
      );
    }
  });
  return {
    child,
    passThrough() {
      live = true;
    },
    output: () => buffered,
  };
}

/**
 * Ready when the API answers a real route: osls loaded, the function bundle loads, the table
 * answers and, with `token` (an admin's, from the local issuer), api verified it against the
 * issuer's keys. Without one, api's own JSON 401 (README "Who may call") is ready enough;
 * serverless-offline's errors have another shape and mean not ready yet.
 */
export async function waitUntilReady(
  offline: Offline,
  port: number,
  lifecycle: Lifecycle,
  token?: string,
): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  const url = `http://127.0.0.1:${port}/v1/users?status=OK&limit=1`;
  let last = 'no answer';
  while (Date.now() < until) {
    lifecycle.signal.throwIfAborted();
    const { exitCode: code, signalCode } = offline.child;
    if (code !== null || signalCode !== null) {
      throw new StartError(
        `serverless-offline exited (${signalCode ?? `code ${code}`}) before it was ready:\n${offline.output().trim()}`,
      );
    }
    try {
      // Ctrl-C during startup must not wait out a probe that serverless-offline is slow to answer.
      const signal = AbortSignal.any([lifecycle.signal, AbortSignal.timeout(10_000)]);
      const response = await fetch(url, {
        signal,
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      });
      const body = await response.text();
      if (token ? response.ok : response.status === 401 && isOurError(body)) return;
      last = `${response.status} ${body.slice(0, 300)}`;
    } catch (error: unknown) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(200, undefined, { signal: lifecycle.signal }).catch(() => undefined);
  }
  throw new StartError(
    `The API on port ${port} was not ready within ${READY_TIMEOUT_MS / 1000} s (last answer: ${last}).\n${offline.output().trim()}`,
  );
}

/** api's error shape: `{"error": {"code", "message"}, "requestId"}` (README "Who may call"). */
function isOurError(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown }; requestId?: unknown };
    return parsed.error?.code === 'UNAUTHORIZED' && typeof parsed.requestId === 'string';
  } catch {
    return false;
  }
}
