import { relative } from 'node:path';
import { DEFAULT_GONG_BASE_URL, type GongCredentialSetting } from '#lib/gong/credentials.ts';
import {
  gongMode,
  type LocalServices,
  loadEnvFile,
  localEnvironment,
  localSettings,
  readRunningState,
  startLocalServices,
} from '#local/stack.ts';
import type { Core } from '../../functions/wiring/core.ts';

/** The core the CLIs run, a line saying what it runs against, and how to let go of it. */
export interface CliCore {
  core: Core;
  where: string;
  close(): Promise<void>;
}

/**
 * Wires the same core as the functions, with the configuration `npm start` uses:
 * - HISTORY_TABLE set (in the environment or .env): the functions' environment as it is (README "Configuration"), e.g. a deployed table;
 * - else a running `npm start` on LOCAL_DATA_DIR: its dynalite, and its Gong sandbox if it runs one;
 * - else dynalite on LOCAL_DATA_DIR and, without Gong credentials, the sandbox, for this command only.
 */
export async function openCliCore(): Promise<CliCore> {
  loadEnvFile();
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Powertools logs JSON and EMF metric lines to stdout: either would break the table and --json.
  // The report says what failed.
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';

  let where: string;
  let services: LocalServices | undefined;
  if (process.env.HISTORY_TABLE?.trim()) {
    where = `table ${process.env.HISTORY_TABLE} from HISTORY_TABLE`;
  } else {
    const settings = localSettings(process.env);
    const running = await readRunningState(settings.dataDir);
    let urls: { dynamodb: string; gong?: string };
    if (running) {
      urls = {
        dynamodb: running.urls.dynamodb,
        ...(running.gong === 'sandbox' ? { gong: running.urls.gong } : {}),
      };
      where = `the running npm start (pid ${running.pid})`;
    } else {
      services = await startLocalServices({
        settings,
        gong: gongMode(process.env),
        anyPorts: true,
        ...(process.env.GONG_BASE_URL ? { gongBaseUrl: process.env.GONG_BASE_URL } : {}),
      });
      urls = {
        dynamodb: services.urls.dynamodb,
        ...(services.sandbox ? { gong: services.sandbox.url } : {}),
      };
      where = `dynalite on ${relative(process.cwd(), settings.dataDir) || '.'} (no npm start running)`;
    }
    Object.assign(process.env, localEnvironment(process.env, urls));
    if (urls.gong) where += `, Gong SANDBOX at ${urls.gong}`;
  }

  try {
    // Imported only now: the logger and the SDK clients read the environment set above.
    const { wireCore } = await import('../../functions/wiring/core.ts');
    const core = wireCore();
    if (!where.includes('SANDBOX')) where += `, ${describeGong(core.config.gong)}`;
    return {
      core,
      where,
      async close() {
        core.clients.destroy();
        await services?.stop();
      },
    };
  } catch (error: unknown) {
    await services?.stop();
    throw error;
  }
}

function describeGong(gong: GongCredentialSetting): string {
  return gong.kind === 'secret'
    ? `Gong credentials from secret ${gong.secretId}`
    : `REAL Gong at ${gong.baseUrl ?? DEFAULT_GONG_BASE_URL}`;
}

/** Bad arguments: the message (with the usage) is all the user needs. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Exits with the code `run` resolves to; any error is one line on stderr and exit code 2. */
export function finish(run: Promise<number>): void {
  run.then(
    (code) => process.exit(code),
    (error: unknown) => {
      const known =
        error instanceof Error &&
        (['UsageError', 'ValidationError', 'ConfigError'].includes(error.name) ||
          String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS'));
      const message = error instanceof Error ? error.message : String(error);
      const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : '';
      const hint = String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS')
        ? ' (see --help)'
        : '';
      process.stderr.write(known ? `${message}${hint}\n` : `error: ${message}${cause}\n`);
      process.exit(2);
    },
  );
}

/** Writes to stdout and resolves once written, so an exit right after loses nothing. */
export function write(text: string): Promise<void> {
  return new Promise((done) => process.stdout.write(text, () => done()));
}
