import {
  assertPortFree,
  gongMode,
  isAlive,
  LOCAL_TABLE,
  loadEnvFile,
  localAdmins,
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
import { printBanner } from './banner.ts';
import { startBuild } from './build-watch.ts';
import { Lifecycle, StartError } from './lifecycle.ts';
import { startOffline, waitUntilReady } from './offline.ts';
import { ROOT, shortPath } from './paths.ts';

async function startAll(lifecycle: Lifecycle): Promise<void> {
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
  const needed: PortName[] = ['http', 'lambda', 'dynamodb', 'issuer'];
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
  lifecycle.signal.throwIfAborted();

  const startedAt = Date.now();
  // The build and the servers do not depend on each other; serverless-offline loads a bundle only
  // when its function is first called, which the readiness probe does after the build.
  const serve = async () => {
    const services = await startLocalServices({
      settings,
      gong,
      slack: slack === 'stand-in',
      // The page the API serves at / logs in through this issuer and comes back there.
      issuer: {
        admins: localAdmins(process.env),
        redirectUris: [
          `http://localhost:${settings.ports.http}/`,
          `http://127.0.0.1:${settings.ports.http}/`,
        ],
      },
      ...(process.env.GONG_BASE_URL ? { gongBaseUrl: process.env.GONG_BASE_URL } : {}),
    });
    lifecycle.started('local services', () => services.stop(), { pid: services.dynamo.pid, group: false });
    lifecycle.signal.throwIfAborted();
    const urls = {
      http: `http://localhost:${settings.ports.http}`,
      lambda: `http://127.0.0.1:${settings.ports.lambda}`,
      dynamodb: services.urls.dynamodb,
      gong: services.urls.gong,
      ...(services.urls.slackApi ? { slackApi: services.urls.slackApi } : {}),
      ...(services.urls.issuer ? { issuer: services.urls.issuer } : {}),
    };
    const offline = startOffline(
      {
        ...process.env,
        ...localEnvironment(process.env, {
          dynamodb: urls.dynamodb,
          lambda: urls.lambda,
          ...(services.sandbox ? { gong: services.sandbox.url } : {}),
          ...(services.slack ? { slackApi: services.slack.url } : {}),
          ...(services.issuer ? { issuer: services.issuer } : {}),
        }),
        PORT: String(settings.ports.http),
        LAMBDA_PORT: String(settings.ports.lambda),
      },
      lifecycle,
    );
    return { services, urls, offline };
  };
  // allSettled, not all: a failing half must not leave the other half starting unseen.
  const [built, served] = await Promise.allSettled([startBuild(lifecycle), serve()]);
  if (built.status === 'rejected') throw built.reason;
  if (served.status === 'rejected') throw served.reason;
  lifecycle.signal.throwIfAborted();
  const { services, urls, offline } = served.value;
  const probeToken = await services.issuer?.mint({ email: 'npm-start-probe@example.com', admin: true });
  await waitUntilReady(offline, settings.ports.http, lifecycle, probeToken);

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
  lifecycle.onStopped(() => removeState(settings.dataDir, process.pid));
  printBanner({
    state,
    services,
    envFile,
    dataDir: settings.dataDir,
    seconds: (Date.now() - startedAt) / 1000,
  });
  offline.passThrough();
}

function main(): void {
  process.chdir(ROOT);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const lifecycle = new Lifecycle();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () =>
      lifecycle.requestStop(0, lifecycle.isStopping ? undefined : `\n${signal}: stopping everything…`),
    );
  }
  process.on('exit', () => lifecycle.killLeftovers());
  lifecycle.run(startAll(lifecycle)).catch((error: unknown) => {
    if (lifecycle.signal.aborted) return;
    const known = error instanceof StartError || error instanceof PortInUseError;
    const message = known ? error.message : error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
    lifecycle.requestStop(1, known ? message : `npm start failed: ${message}${cause}`);
  });
}

main();
