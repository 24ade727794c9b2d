import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckReport } from '#lib/check/report.ts';
import { LOCAL_SLACK_SIGNING_SECRET, stateFile } from '#local/stack.ts';
import { cleanEnv, runCli } from '../support/cli.ts';
import { type NpmStart, npmStart, quietPorts, waitForState } from '../support/npm-start.ts';
import { slackSignature, slashCommandBody } from '../support/slack-requests.ts';

const ROOT = resolve(import.meta.dirname, '../..');

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

/** A bearer token from the running npm start's issuer, through `npm run token` as a user gets one. */
async function tokenFor(env: NodeJS.ProcessEnv, email: string, admin = false): Promise<string> {
  const args = ['--import', 'tsx', 'scripts/cli/token.ts', '--email', email, ...(admin ? ['--admin'] : [])];
  const { stdout } = await promisify(execFile)(process.execPath, args, { cwd: ROOT, env });
  return stdout.trim();
}

async function getJson(url: string, token?: string) {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Polls `probe` until it gives a value: the worker's first invocation is a cold start, slow on a
 * loaded machine, so the test waits for the thing itself, and stops early, with npm start's output,
 * if npm start has stopped.
 */
async function waitFor<T>(run: NpmStart, what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    if (run.child.exitCode !== null || run.child.signalCode !== null)
      throw new Error(`npm start stopped before ${what}:\n${run.output()}`);
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`no ${what} within 30 s:\n${run.output()}`);
}

/** What the Slack stand-in recorded at a response_url (GET on it): undefined until something was posted. */
async function postsAt(responseUrl: string): Promise<string | undefined> {
  const { posts } = (await (await fetch(responseUrl)).json()) as { posts: unknown[] };
  return posts.length > 0 ? JSON.stringify(posts) : undefined;
}

/** A signed `/gong-status <text>` as Slack sends it; gives the ack's text. */
async function slashCommand(api: string, text: string, responseUrl: string): Promise<string> {
  const body = slashCommandBody({ text, responseUrl });
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
  return ((await ack.json()) as { text: string }).text;
}

describe('npm start (the whole product on one machine)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let api: string;
  const runs: NpmStart[] = [];
  /** Every process the runs started, for the clean-up when an assertion failed midway. */
  const seen = new Set<number>();

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gong-status-e2e-'));
    const [http, lambda, dynamodb, gong, slack, issuer] = await quietPorts(6);
    env = cleanEnv({
      PORT: String(http),
      LAMBDA_PORT: String(lambda),
      DYNAMODB_PORT: String(dynamodb),
      GONG_SANDBOX_PORT: String(gong),
      SLACK_API_PORT: String(slack),
      ISSUER_PORT: String(issuer),
      LOCAL_DATA_DIR: dataDir,
    });
    api = `http://127.0.0.1:${http}`;
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
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the API and Slack against the sandbox, keeps history across a restart, and leaves no process behind', async () => {
    // First run: check users through the HTTP API, Slack, and the CLI.
    const first = npmStart(env);
    runs.push(first);
    const state = await waitForState(dataDir, first, 40_000);
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

    // Nobody gets in without a token from the local issuer (README "Who may call").
    expect(state.urls.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.output()).toContain('npm run -s token -- --email');
    const anonymous = await getJson(`${api}/v1/users/grace@example.com/history`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: { code: 'UNAUTHORIZED' } });
    const admin = await tokenFor(env, 'admin@example.com', true);
    const member = await tokenFor(env, 'ada@example.com');
    const forbidden = await getJson(`${api}/v1/users?status=OK`, member);
    expect(forbidden.status).toBe(403);
    expect((await getJson(`${api}/v1/users/ada@example.com`, member)).status).toBe(404);
    const unknown = await getJson(`${api}/no/such/route`);
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });

    const check = await fetch(`${api}/v1/checks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
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
    const history = await getJson(`${api}/v1/users/grace@example.com/history`, admin);
    expect(history.status).toBe(200);
    expect(history.body.items).toEqual([expect.objectContaining({ status: 'INVALID', source: 'api' })]);

    // slack acks, then slackWorker (invoked through serverless-offline's Lambda endpoint) answers
    // through the response_url, on the Slack stand-in: the only origin besides Slack's it posts to.
    // "Checking…" says the hand-off worked (a failed invoke acks "Sorry, I could not start that…").
    expect(state.urls.slackApi).toBeDefined();
    const responseUrl = new URL('/responses/e2e-linus', state.urls.slackApi).href;
    expect(await slashCommand(api, 'linus@example.com', responseUrl)).toMatch(/^Checking 1 user in Gong/);
    expect(await waitFor(first, "the worker's answer", () => postsAt(responseUrl))).toContain(
      'linus@example.com',
    );

    // A worker that fails (it refuses a response_url off Slack's origins) is printed, and the stack
    // keeps running, as after a failed async invoke in AWS: the steps below need it.
    expect(await slashCommand(api, 'ada@example.com', 'http://127.0.0.1:9/commands/x')).toMatch(/^Checking/);
    await waitFor(first, "the worker's failure", async () =>
      first.output().includes('Not posting to response_url at http://127.0.0.1:9') ? true : undefined,
    );

    // The CLI finds the running stack through its state file and shares its table.
    const cli = await runCli('check', ['--json', 'grace@example.com'], { env });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`the running npm start (pid ${state.pid})`);
    expect((JSON.parse(cli.stdout) as CheckReport).results[0]).toMatchObject({
      previousValid: false,
      changed: false,
    });

    expect(first.output()).not.toContain('serverless-offline stopped');

    // Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
    process.kill(-(first.child.pid ?? 0), 'SIGINT');
    // npm execs its script, which stops everything and exits 0: a Ctrl-C is a clean stop.
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('SIGINT: stopping everything');
    expect(first.output()).not.toContain('could not stop');
    await expectAllStopped(pids);
    expect(existsSync(stateFile(dataDir))).toBe(false);

    // Second run on the same data: the history is still there.
    const second = npmStart(env);
    runs.push(second);
    const again = await waitForState(dataDir, second, 40_000);
    const secondPids = [
      ...new Set([...again.processes.map((p) => p.pid), ...descendantsOf(second.child.pid ?? -1)]),
    ];
    for (const pid of secondPids) seen.add(pid);
    // A restart makes new keys: the first run's tokens are refused, fresh ones work.
    expect((await getJson(`${api}/v1/users/grace@example.com/history`, admin)).status).toBe(401);
    const freshAdmin = await tokenFor(env, 'admin@example.com', true);
    const kept = await getJson(`${api}/v1/users/grace@example.com/history`, freshAdmin);
    expect((kept.body.items as { source: string }[]).map((item) => item.source)).toEqual(['cli', 'api']);
    const linus = await getJson(`${api}/v1/users/linus@example.com`, freshAdmin);
    expect(linus.body).toMatchObject({ status: 'INVALID', source: 'slack' });

    // SIGTERM to the pid it reports (a process manager's stop).
    process.kill(again.pid, 'SIGTERM');
    expect(await second.exited).toBe(0);
    await expectAllStopped(secondPids);
  }, 180_000);

  it('refuses a busy port with one line naming the port and the variable that moves it', async () => {
    const busy = createServer();
    await new Promise<void>((done) => busy.listen(0, '127.0.0.1', done));
    const port = (busy.address() as { port: number }).port;
    try {
      // Its own data dir: a first test that failed midway may have left its npm start running.
      const run = npmStart({ ...env, PORT: String(port), LOCAL_DATA_DIR: join(dataDir, 'busy-port') });
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
