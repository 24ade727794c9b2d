import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/dynamodb.ts';
import {
  LOCAL_SLACK_SIGNING_SECRET,
  readState,
  type StackState,
  stateFile,
} from '../../infra/local/stack.ts';
import type { CheckReport } from '../../lib/report.ts';
import { cleanEnv, runCli } from '../support/cli.ts';
import { slackSignature, slashCommandBody } from '../support/slack-requests.ts';

const ROOT = resolve(import.meta.dirname, '../..');

/** `npm start` as a user runs it, in its own process group (as a terminal would) so a test can Ctrl-C it. */
interface NpmStart {
  child: ChildProcess;
  /** The exit code, or the signal npm re-raised on itself after its script stopped. */
  exited: Promise<number | string | null>;
  output(): string;
}

function npmStart(env: NodeJS.ProcessEnv): NpmStart {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | string | null>((done) =>
    child.once('exit', (code, signal) => done(code ?? signal)),
  );
  return { child, exited, output: () => output };
}

/** The state file appears once the API answers; npm exiting first is a failure with its output. */
async function waitForState(dataDir: string, run: NpmStart): Promise<StackState> {
  const until = Date.now() + 40_000;
  while (Date.now() < until) {
    if (run.child.exitCode !== null)
      throw new Error(`npm start exited ${run.child.exitCode}:\n${run.output()}`);
    const state = await readState(dataDir);
    if (state) return state;
    await sleep(100);
  }
  throw new Error(`npm start was not ready within 40 s:\n${run.output()}`);
}

/** pid → [parent pid, state] of every process on the machine. */
function processTable(): Map<number, [number, string]> {
  const table = new Map<number, [number, string]>();
  for (const line of execFileSync('ps', ['-A', '-o', 'pid=,ppid=,stat='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid, stat] = line.trim().split(/\s+/);
    if (pid && ppid && stat) table.set(Number(pid), [Number(ppid), stat]);
  }
  return table;
}

function descendantsOf(root: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [pid, [ppid]] of table) {
      if (ppid === parent && !found.includes(pid)) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** Still running: present and not a zombie (an exited child nobody has reaped yet has stopped). */
function stillRunning(pids: number[]): number[] {
  const table = processTable();
  return pids.filter((pid) => {
    const entry = table.get(pid);
    return entry !== undefined && !entry[1].startsWith('Z');
  });
}

async function expectAllStopped(pids: number[]): Promise<void> {
  // Stopping ends with process.exit; give the kernel a moment to tear the processes down.
  for (let i = 0; i < 50 && stillRunning(pids).length > 0; i++) await sleep(100);
  expect(stillRunning(pids)).toEqual([]);
}

async function getJson(url: string) {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('npm start (the whole product on one machine)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let api: string;
  const runs: NpmStart[] = [];
  /** Every process the runs started, for the clean-up when an assertion failed midway. */
  const seen = new Set<number>();
  let slackReplies: Server;
  let slackRepliesUrl: string;
  const replies: string[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gong-status-e2e-'));
    const [http, lambda, dynamodb, gong, slack] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
    env = cleanEnv({
      PORT: String(http),
      LAMBDA_PORT: String(lambda),
      DYNAMODB_PORT: String(dynamodb),
      GONG_SANDBOX_PORT: String(gong),
      SLACK_API_PORT: String(slack),
      LOCAL_DATA_DIR: dataDir,
    });
    api = `http://127.0.0.1:${http}`;
    slackReplies = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        replies.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((done) => slackReplies.listen(0, '127.0.0.1', done));
    slackRepliesUrl = `http://127.0.0.1:${(slackReplies.address() as { port: number }).port}/commands/T0/1/x`;
  });

  afterAll(async () => {
    // Only if an assertion failed midway: nothing of ours may outlive the suite.
    for (const run of runs) {
      if (run.child.exitCode === null && run.child.pid) {
        try {
          process.kill(-run.child.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
    }
    for (const pid of stillRunning([...seen])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await new Promise<void>((done) => slackReplies?.close(() => done()));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the API and Slack against the sandbox, keeps history across a restart, and leaves no process behind', async () => {
    // First run: check users through the HTTP API, Slack, and the CLI.
    const first = npmStart(env);
    runs.push(first);
    const state = await waitForState(dataDir, first);
    expect(state).toMatchObject({ gong: 'sandbox', slack: 'stand-in', table: 'gong-status-local' });
    expect(first.output()).toContain('SANDBOX');
    const pids = [
      ...new Set([
        ...state.processes.map((p) => p.pid),
        first.child.pid ?? -1,
        ...descendantsOf(first.child.pid ?? -1),
      ]),
    ];
    expect(pids.length).toBeGreaterThanOrEqual(state.processes.length + 1);
    for (const pid of pids) seen.add(pid);

    const check = await fetch(`${api}/v1/checks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ emails: ['ada@example.com', 'grace@example.com', 'nobody@example.com'] }),
    });
    expect(check.status).toBe(200);
    expect(((await check.json()) as CheckReport).summary).toEqual({
      total: 3,
      valid: 1,
      invalid: 1,
      notFound: 1,
      failed: 0,
    });
    const history = await getJson(`${api}/v1/users/grace@example.com/history`);
    expect(history.status).toBe(200);
    expect(history.body.items).toEqual([expect.objectContaining({ status: 'INVALID', source: 'api' })]);

    // slack acks, then slackWorker (invoked through serverless-offline's Lambda endpoint) answers.
    const body = slashCommandBody({ text: 'linus@example.com', responseUrl: slackRepliesUrl });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const ack = await fetch(`${api}/slack/commands`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(LOCAL_SLACK_SIGNING_SECRET, timestamp, body),
      },
      body,
    });
    expect(ack.status).toBe(200);
    const ackText = await ack.text();
    const t0 = Date.now();
    for (let i = 0; i < 150 && replies.length === 0; i++) await sleep(100);
    console.error('DEBUG ack', ackText, 'waited', Date.now() - t0, 'replies', replies.length, '\n', first.output());
    expect(replies.join('\n')).toContain('linus@example.com');

    // The CLI finds the running stack through its state file and shares its table.
    const cli = await runCli('check', ['--json', 'grace@example.com'], { env });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`the running npm start (pid ${state.pid})`);
    expect((JSON.parse(cli.stdout) as CheckReport).results[0]).toMatchObject({
      previousValid: false,
      changed: false,
    });

    // Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
    process.kill(-(first.child.pid ?? 0), 'SIGINT');
    // npm re-raises the SIGINT on itself once its script has stopped, as it does in a terminal.
    expect(await first.exited).toBe('SIGINT');
    expect(first.output()).toContain('SIGINT: stopping everything');
    expect(first.output()).not.toContain('could not stop');
    await expectAllStopped(pids);
    expect(existsSync(stateFile(dataDir))).toBe(false);

    // Second run on the same data: the history is still there.
    const second = npmStart(env);
    runs.push(second);
    const again = await waitForState(dataDir, second);
    const secondPids = [
      ...new Set([...again.processes.map((p) => p.pid), ...descendantsOf(second.child.pid ?? -1)]),
    ];
    for (const pid of secondPids) seen.add(pid);
    const kept = await getJson(`${api}/v1/users/grace@example.com/history`);
    expect((kept.body.items as { source: string }[]).map((item) => item.source)).toEqual(['cli', 'api']);
    const linus = await getJson(`${api}/v1/users/linus@example.com`);
    expect(linus.body).toMatchObject({ status: 'INVALID', source: 'slack' });

    // SIGTERM to the pid it reports (a process manager's stop).
    process.kill(again.pid, 'SIGTERM');
    expect(await second.exited).toBe(0);
    await expectAllStopped(secondPids);
  }, 90_000);

  it('refuses a busy port with one line naming the port and the variable that moves it', async () => {
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    const port = (busy.address() as { port: number }).port;
    try {
      const run = npmStart({ ...env, PORT: String(port) });
      runs.push(run);
      expect(await run.exited).toBe(1);
      const ours = run
        .output()
        .split('\n')
        .filter((line) => line.trim() !== '' && !line.startsWith('npm ') && !line.startsWith('> '));
      expect(ours).toEqual([
        `Port ${port} is already in use: set PORT to a free port (e.g. PORT=${port + 100} npm start).`,
      ]);
    } finally {
      await new Promise<void>((done) => busy.close(() => done()));
    }
  }, 30_000);
});
