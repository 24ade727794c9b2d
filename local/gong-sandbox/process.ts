import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '#local/dynamodb.ts';
import type { SandboxFault } from './faults.ts';
import type { SandboxUser } from './users.ts';

/** The sandbox's counters as its admin route returns them. */
export interface RemoteSandboxStats {
  arrivals: { at: number; path: string; status?: number }[];
  calls: number;
  byStatus: Record<string, number>;
}

/** A Gong sandbox in its own process, driven over its admin routes. */
export interface SandboxProcess {
  url: string;
  stats(): Promise<RemoteSandboxStats>;
  resetStats(): Promise<void>;
  injectFault(fault: SandboxFault, times?: number): Promise<void>;
  /** What Gong answers for this user from now on. */
  setUser(user: SandboxUser): Promise<void>;
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL('../gong-sandbox.ts', import.meta.url));

/**
 * Starts the sandbox as a child process: Gong is another machine, so its clock and timers must not
 * wait on the product's event loop (arrival stamps taken in the same process would be skewed by it).
 */
export async function spawnGongSandbox(
  options: { rps?: number; burst?: number; latencyMs?: number } = {},
): Promise<SandboxProcess> {
  const port = await freePort();
  const args = ['--import', 'tsx', CLI, '--port', String(port)];
  if (options.rps !== undefined) args.push('--rps', String(options.rps));
  if (options.burst !== undefined) args.push('--burst', String(options.burst));
  if (options.latencyMs !== undefined) args.push('--latency', String(options.latencyMs));
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`Gong sandbox exited with ${code}`)));
  });
  child.stdout?.resume();
  const url = `http://127.0.0.1:${port}`;
  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url}/_sandbox/${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`sandbox answered ${response.status} to ${method} ${path}`);
    return response.json() as Promise<unknown>;
  };
  return {
    url,
    stats: async () => (await admin('GET', 'stats')) as RemoteSandboxStats,
    resetStats: async () => {
      await admin('POST', 'reset-stats');
    },
    injectFault: async (fault, times = 1) => {
      await admin('POST', 'faults', { fault, times });
    },
    setUser: async (user) => {
      await admin('POST', 'users', user);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Gaps between consecutive arrivals (ms), in arrival order. */
export function gapsBetween(arrivals: readonly { at: number }[]): number[] {
  const times = arrivals.map((arrival) => arrival.at).sort((a, b) => a - b);
  return times.slice(1).map((time, i) => time - (times[i] ?? time));
}
