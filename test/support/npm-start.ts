import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readState, type StackState } from '#local/stack.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** `npm start` as a user runs it, in its own process group (as a terminal would) so a test can Ctrl-C it. */
export interface NpmStart {
  child: ChildProcess;
  /** The exit code, or the signal npm re-raised on itself after its script stopped. */
  exited: Promise<number | string | null>;
  output(): string;
  /** Ctrl-C to the whole group, then SIGKILL to whatever is left after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `npm start` with exactly `env`. */
export function npmStart(env: NodeJS.ProcessEnv): NpmStart {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<number | string | null>((done) =>
    child.once('exit', (code, signal) => done(code ?? signal)),
  );
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // The group is gone already.
    }
  };
  return {
    child,
    exited,
    output: () => output,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signalGroup('SIGINT');
      const late = await Promise.race([exited.then(() => false), sleep(graceMs).then(() => true)]);
      if (late) signalGroup('SIGKILL');
    },
  };
}

/** The banner's last line: npm start prints it right after writing the state file. */
const BANNER_END = 'Ctrl-C stops everything.';

/** Waits for the state file and the banner's end; npm start exiting first is a failure with its output. */
export async function waitForState(dataDir: string, run: NpmStart, timeoutMs = 60_000): Promise<StackState> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (run.child.exitCode !== null || run.child.signalCode !== null)
      throw new Error(`npm start exited ${run.child.exitCode ?? run.child.signalCode}:\n${run.output()}`);
    const state = await readState(dataDir);
    if (state && run.output().includes(BANNER_END)) return state;
    await sleep(100);
  }
  throw new Error(`npm start was not ready within ${timeoutMs / 1000} s:\n${run.output()}`);
}

/**
 * `count` distinct free ports below the kernel's ephemeral range: other test files listen on port 0
 * all the time, and the kernel never hands out these ports that way.
 */
export async function quietPorts(count: number): Promise<number[]> {
  const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '32768'))
    .trim()
    .split(/\s+/)
    .map(Number);
  const ceiling = Math.max(low ?? 32_768, 20_000);
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 10_000 + Math.floor(Math.random() * (ceiling - 10_000));
    if (!ports.includes(port) && (await canListen(port))) ports.push(port);
  }
  return ports;
}

function canListen(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((done) => {
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}
