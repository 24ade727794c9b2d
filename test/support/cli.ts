import { spawn } from 'node:child_process';
import { devNull } from 'node:os';
import { resolve } from 'node:path';

/** What a finished CLI run gave back. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * The environment a child of the tests starts from: ours without anything that configures the
 * product, and no .env, so a developer's real credentials never reach a test.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      /^(GONG_|SLACK_|CRM_|HISTORY_|ALERT_|SWEEP_|AWS_|LOCAL_|PORT$|LAMBDA_PORT$|DYNAMODB_PORT$|ENV_FILE$)/.test(
        key,
      )
    ) {
      continue;
    }
    env[key] = value;
  }
  return { ...env, ENV_FILE: devNull, ...extra };
}

/** Runs `scripts/cli/<name>.ts` with tsx, as `npm run <name>` does, and collects its output. */
export function runCli(
  name: 'check' | 'history',
  args: string[],
  options: { env: NodeJS.ProcessEnv; stdin?: string },
): Promise<CliRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', `scripts/cli/${name}.ts`, ...args], {
    cwd: ROOT,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  child.stdin.end(options.stdin ?? '');
  return new Promise((done, failed) => {
    child.once('error', failed);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}
