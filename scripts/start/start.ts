import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, type Plugin } from 'esbuild';
import { parse } from 'yaml';
import { EXAMPLE_USERS } from '#local/gong-sandbox.ts';
import {
  assertPortFree,
  gongMode,
  isAlive,
  LOCAL_SLACK_SIGNING_SECRET,
  LOCAL_STAGE,
  LOCAL_TABLE,
  type LocalServices,
  loadEnvFile,
  localEnvironment,
  localSettings,
  PORTS,
  PortInUseError,
  type PortName,
  readRunningState,
  readState,
  removeState,
  type StackState,
  slackMode,
  startLocalServices,
  writeState,
} from '#local/stack.ts';
import { buildOptions } from '../build/build.ts';

const require = createRequire(import.meta.url);
const ROOT = resolve(import.meta.dirname, '../..');
/** serverless-offline needs a few seconds to load osls and the plugin; a cold machine more. */
const READY_TIMEOUT_MS = 60_000;

const log = (line = '') => process.stdout.write(`${line}\n`);

/** Things started so far, stopped in reverse order. */
const started: { name: string; stop: () => Promise<void> }[] = [];
const abort = new AbortController();
let startup: Promise<void> = Promise.resolve();
let stopping: Promise<void> | undefined;
let exitCode = 0;
let ownState = false;
// For the last-resort kill in process.on('exit'), where nothing asynchronous runs.
const childPids: { pid: number; group: boolean }[] = [];

async function startAll(): Promise<void> {
  const envFile = loadEnvFile();
  const settings = localSettings(process.env);
  const gong = gongMode(process.env);
  const slack = slackMode(process.env);

  const running = await readRunningState(settings.dataDir);
  if (running) {
    throw new StartError(
      `gong-status is already running (pid ${running.pid}) with data in ${shortPath(settings.dataDir)}: stop it first, or set LOCAL_DATA_DIR.`,
    );
  }
  const leftovers = (await readState(settings.dataDir))?.processes.filter((p) => isAlive(p.pid)) ?? [];
  const needed: PortName[] = ['http', 'lambda', 'dynamodb'];
  if (gong === 'sandbox') needed.push('gongSandbox');
  if (slack === 'stand-in') needed.push('slackApi');
  for (const name of needed) {
    try {
      await assertPortFree(settings.ports[name], PORTS[name].variable);
    } catch (error: unknown) {
      if (error instanceof PortInUseError && leftovers.length > 0) {
        const list = leftovers.map((p) => `${p.name} ${p.pid}`).join(', ');
        throw new StartError(`${error.message} A previous run may have left it behind: ${list}.`);
      }
      throw error;
    }
  }
  abort.signal.throwIfAborted();

  const startedAt = Date.now();
  // The build and the servers do not depend on each other; serverless-offline loads a bundle only
  // when its function is first called, which the readiness probe does after the build.
  const serve = async () => {
    const services = await startLocalServices({
      settings,
      gong,
      slack: slack === 'stand-in',
      ...(process.env.GONG_BASE_URL ? { gongBaseUrl: process.env.GONG_BASE_URL } : {}),
    });
    started.push({ name: 'local services', stop: () => services.stop() });
    childPids.push({ pid: services.dynamo.pid, group: false });
    abort.signal.throwIfAborted();
    const urls = {
      http: `http://localhost:${settings.ports.http}`,
      lambda: `http://127.0.0.1:${settings.ports.lambda}`,
      dynamodb: services.urls.dynamodb,
      gong: services.urls.gong,
      ...(services.urls.slackApi ? { slackApi: services.urls.slackApi } : {}),
    };
    const offline = startOffline({
      ...process.env,
      ...localEnvironment(process.env, {
        dynamodb: urls.dynamodb,
        lambda: urls.lambda,
        ...(services.sandbox ? { gong: services.sandbox.url } : {}),
        ...(services.slack ? { slackApi: services.slack.url } : {}),
      }),
      PORT: String(settings.ports.http),
      LAMBDA_PORT: String(settings.ports.lambda),
    });
    return { services, urls, offline };
  };
  // allSettled, not all: a failing half must not leave the other half starting unseen.
  const [built, served] = await Promise.allSettled([startBuild(), serve()]);
  if (built.status === 'rejected') throw built.reason;
  if (served.status === 'rejected') throw served.reason;
  abort.signal.throwIfAborted();
  const { services, urls, offline } = served.value;
  await waitUntilReady(offline, settings.ports.http);

  const state: StackState = {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    table: LOCAL_TABLE,
    gong,
    slack,
    urls,
    processes: [
      { name: 'npm start', pid: process.pid },
      { name: 'dynalite', pid: services.dynamo.pid },
      { name: 'serverless-offline', pid: offline.child.pid ?? -1, group: true },
    ],
  };
  await writeState(settings.dataDir, state);
  ownState = true;
  printBanner({
    state,
    services,
    envFile,
    dataDir: settings.dataDir,
    seconds: (Date.now() - startedAt) / 1000,
  });
  offline.passThrough();
}

/** Builds every bundle, then keeps rebuilding on change; serverless-offline reloads handlers per request. */
async function startBuild(): Promise<void> {
  let first = true;
  const ctx = await context({
    ...buildOptions,
    write: false,
    plugins: [...(buildOptions.plugins ?? []), writeChanged(() => first)],
  });
  started.push({ name: 'esbuild', stop: () => ctx.dispose() });
  const result = await ctx.rebuild().catch((error: unknown) => {
    throw new StartError(`The build failed: fix the errors above, then npm start again.`, { cause: error });
  });
  first = false;
  if (result.errors.length > 0) throw new StartError('The build failed: fix the errors above.');
  await ctx.watch();
}

/**
 * Writes only the bundles whose bytes changed, each through a rename: tests and serverless-offline
 * load dist/ while we rebuild, and must never see half a file.
 */
function writeChanged(isFirst: () => boolean): Plugin {
  return {
    name: 'write-changed',
    setup(build) {
      build.onEnd(async (result) => {
        const changed: string[] = [];
        for (const file of result.outputFiles ?? []) {
          const current = await readFile(file.path).catch(() => undefined);
          if (current?.equals(file.contents)) continue;
          await mkdir(dirname(file.path), { recursive: true });
          const temporary = `${file.path}.${process.pid}.tmp`;
          await writeFile(temporary, file.contents);
          await rename(temporary, file.path);
          if (file.path.endsWith('.js')) changed.push(relative(ROOT, file.path));
        }
        if (!isFirst() && changed.length > 0) log(`rebuilt ${changed.join(', ')}`);
      });
    },
  };
}

interface Offline {
  child: ChildProcess;
  /** From now on, serverless-offline's output (the functions' logs) goes to our stdout. */
  passThrough(): void;
  output(): string;
}

function startOffline(env: NodeJS.ProcessEnv): Offline {
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
    ],
    // Its own process group, so stopping it stops anything it starts too.
    { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const pid = child.pid ?? -1;
  childPids.push({ pid, group: true });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  started.push({
    name: 'serverless-offline',
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(pid, 'SIGTERM');
      const quit = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!quit) killGroup(pid, 'SIGKILL');
      await exited;
    },
  });
  let buffered = '';
  let live = false;
  const collect = (chunk: Buffer, stream: NodeJS.WriteStream) => {
    if (live) stream.write(chunk);
    else buffered += chunk.toString('utf8');
  };
  child.stdout?.on('data', (chunk: Buffer) => collect(chunk, process.stdout));
  child.stderr?.on('data', (chunk: Buffer) => collect(chunk, process.stderr));
  child.once('exit', (code, signal) => {
    if (live && !abort.signal.aborted) {
      requestStop(1, `serverless-offline stopped (${signal ?? `exit code ${code}`}); stopping everything.`);
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

/** Ready when the API answers a real route: osls loaded, the function bundle loads, the table answers. */
async function waitUntilReady(offline: Offline, port: number): Promise<void> {
  const until = Date.now() + READY_TIMEOUT_MS;
  const url = `http://127.0.0.1:${port}/v1/users?status=OK&limit=1`;
  let last = 'no answer';
  while (Date.now() < until) {
    abort.signal.throwIfAborted();
    const { exitCode: code, signalCode } = offline.child;
    if (code !== null || signalCode !== null) {
      throw new StartError(
        `serverless-offline exited (${signalCode ?? `code ${code}`}) before it was ready:\n${offline.output().trim()}`,
      );
    }
    try {
      // Ctrl-C during startup must not wait out a probe that serverless-offline is slow to answer.
      const signal = AbortSignal.any([abort.signal, AbortSignal.timeout(10_000)]);
      const response = await fetch(url, { signal });
      const body = await response.text();
      if (response.ok) return;
      last = `${response.status} ${body.slice(0, 300)}`;
    } catch (error: unknown) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(200, undefined, { signal: abort.signal }).catch(() => undefined);
  }
  throw new StartError(
    `The API on port ${port} was not ready within ${READY_TIMEOUT_MS / 1000} s (last answer: ${last}).\n${offline.output().trim()}`,
  );
}

function printBanner(options: {
  state: StackState;
  services: LocalServices;
  envFile: string | undefined;
  dataDir: string;
  seconds: number;
}): void {
  const { state, services, envFile, dataDir } = options;
  const { urls } = state;
  const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
  const routes = httpRoutes();
  log();
  log(
    bold(`gong-status is running locally (stage ${LOCAL_STAGE}, ready in ${options.seconds.toFixed(1)} s)`),
  );
  log();
  log(`  HTTP API        ${urls.http}  (serverless-offline, every route of serverless.yml)`);
  for (const route of routes) log(`                    ${route}`);
  log(`  Lambda invoke   ${urls.lambda}  (AWS_ENDPOINT_URL_LAMBDA of the functions)`);
  log(
    `  DynamoDB        ${urls.dynamodb}  (dynalite, table ${state.table}, data in ${shortPath(dataDir)}/dynamodb)`,
  );
  if (state.gong === 'sandbox') {
    log(
      bold(
        `  Gong            SANDBOX at ${urls.gong} — no Gong credentials configured, so not your company's Gong`,
      ),
    );
  } else if (state.gong === 'env') {
    log(bold(`  Gong            REAL Gong at ${urls.gong}, key GONG_ACCESS_KEY from the environment`));
  } else {
    log(
      bold(
        `  Gong            REAL Gong, credentials from Secrets Manager secret ${process.env.GONG_SECRET_ID}`,
      ),
    );
  }
  if (urls.slackApi) {
    log(
      `  Slack Web API   STAND-IN at ${urls.slackApi} — no Slack app configured; sign requests with ${LOCAL_SLACK_SIGNING_SECRET}`,
    );
  } else {
    log(
      `  Slack           ${state.slack === 'secret' ? 'secret SLACK_SECRET_ID' : 'SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN'}, Web API at ${process.env.SLACK_API_URL || 'https://slack.com/api/'}`,
    );
  }
  const settingsFrom = !envFile
    ? 'the environment only'
    : envFile.endsWith('.env.example')
      ? '.env.example (no .env yet: copy it to .env to change settings)'
      : `${shortPath(envFile)}`;
  log(`  Settings        ${settingsFrom}`);
  if (services.sandbox) {
    log();
    log('  Sandbox users:');
    for (const user of EXAMPLE_USERS) {
      const what = !user.exists
        ? 'unknown to Gong'
        : user.valid
          ? 'valid'
          : `not connected: ${user.userFacingError}`;
      log(`    ${user.email.padEnd(22)} ${what}`);
    }
    log('    any other @example.com is valid; local part broken… is not connected, unknown… is unknown');
  }
  log();
  log('  Try:');
  log(
    `    curl -s ${urls.http}/v1/checks -H 'content-type: application/json' -d '{"emails":["ada@example.com","grace@example.com"]}'`,
  );
  log(`    curl -s ${urls.http}/v1/users/grace@example.com/history`);
  log('    npm run check -- ada@example.com grace@example.com nobody@example.com');
  log();
  log('  Ctrl-C stops everything.');
  log();
}

/** The HTTP routes serverless.yml declares, as `METHOD /path`. */
function httpRoutes(): string[] {
  try {
    // CloudFormation tags (!GetAtt…) mean nothing here; only the events are read.
    const config = parse(readFileSync(resolve(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' }) as {
      functions?: Record<string, { events?: { httpApi?: string | { method?: string; path?: string } }[] }>;
    };
    const routes: string[] = [];
    for (const fn of Object.values(config.functions ?? {})) {
      for (const event of fn.events ?? []) {
        const route = event.httpApi;
        if (typeof route === 'string') routes.push(route);
        else if (route?.path) routes.push(`${(route.method ?? 'ANY').toUpperCase()} ${route.path}`);
      }
    }
    return routes;
  } catch {
    return [];
  }
}

function shortPath(path: string): string {
  const rel = relative(ROOT, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** A startup failure whose message is all the user needs (no stack). */
class StartError extends Error {
  override name = 'StartError';
}

function requestStop(code: number, reason?: string): void {
  if (reason) (code === 0 ? process.stdout : process.stderr).write(`${reason}\n`);
  if (!abort.signal.aborted) {
    exitCode = code;
    abort.abort();
  }
  stopping ??= stopAll();
}

async function stopAll(): Promise<void> {
  // Let the step in progress finish (it sees the abort), so nothing it spawned is left behind.
  await startup.catch(() => undefined);
  for (const step of started.reverse()) {
    try {
      await step.stop();
    } catch (error: unknown) {
      process.stderr.write(
        `could not stop ${step.name}: ${error instanceof Error ? error.message : error}\n`,
      );
    }
  }
  if (ownState) await removeState(localSettings(process.env).dataDir, process.pid).catch(() => undefined);
  process.exit(exitCode);
}

function main(): void {
  process.chdir(ROOT);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => requestStop(0, stopping ? undefined : `\n${signal}: stopping everything…`));
  }
  process.on('exit', () => {
    for (const { pid, group } of childPids) {
      if (!isAlive(pid)) continue;
      try {
        process.kill(group ? -pid : pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  });
  startup = startAll();
  startup.catch((error: unknown) => {
    if (abort.signal.aborted) return;
    const known = error instanceof StartError || error instanceof PortInUseError;
    const message = known ? error.message : error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    requestStop(1, known ? message : `npm start failed: ${message}${cause}`);
  });
}

main();
