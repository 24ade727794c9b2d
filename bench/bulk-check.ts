import { execFileSync, fork } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalDynamo } from '#local/dynamodb.ts';
import { gapsBetween, spawnGongSandbox } from '#local/gong-sandbox/process.ts';
import { CONSENT_PAGE_PROBLEM } from '#local/gong-sandbox/users.ts';
import { ensureTable } from '#local/table.ts';
import { FUNCTIONS } from '../scripts/build/functions.ts';
import type { ContainerFigures } from './container.ts';

// Bulk check at Gong's pace: the sandbox allows RPS calls a second (burst 2) and answers in
// LATENCY_MS; the product is told GONG_MAX_RPS=RPS. Ideal time = (calls − 1) / rps + latency: what a
// perfect client needs from the first call to the last answer. The headline is the whole invocation
// (storage included), as users live with it, with the database in its own process at normal priority.
const EMAILS = Number(process.env.BENCH_EMAILS ?? 6000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RPS = 20;
const LATENCY_MS = 250;

const calls = Math.ceil(EMAILS / 100);
const idealSeconds = (calls - 1) / RPS + LATENCY_MS / 1000;
const emailsOf = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${i}@example.com`);

const CONTAINER = fileURLToPath(new URL('./container.ts', import.meta.url));

interface RunFigures {
  efficiency: number;
  seconds: number;
  gongSeconds: number;
  minGapMs: number;
  p5GapMs: number;
  rateLimited: number;
  failures: number;
  /** CPU of the containers' processes during the check, and of the database's (seconds). */
  containerCpuSeconds: number;
  databaseCpuSeconds: number;
}

/** CPU a process has used so far (ms), from /proc; NaN where there is no /proc (not Linux). */
function processCpuMs(pid: number): number {
  try {
    // Fields 14 and 15 of /proc/<pid>/stat (after the command's closing parenthesis): user and
    // system time in clock ticks, 100 a second on Linux.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/**
 * A first check meets 6,000 users the table has never seen (one conditional create each); a repeat
 * check is what the daily sweep does: users known from a check before, 1% of them changed since.
 */
type Workload = 'first' | 'repeat';
const CHANGED_SHARE = 0.01;

async function measureRun(run: number, containers: number, workload: Workload): Promise<RunFigures> {
  // Gong and the database are other machines: each in its own process, so their timers never wait on ours.
  const [sandbox, dynamo] = await Promise.all([
    spawnGongSandbox({ rps: RPS, burst: 2, latencyMs: LATENCY_MS }),
    startLocalDynamo(),
  ]);
  const client = new DynamoDBClient({
    endpoint: dynamo.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  try {
    const table = `bench-${workload}-${run}-${containers}`;
    await ensureTable(client, table);
    const env = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      HISTORY_TABLE: table,
      GONG_ACCESS_KEY: 'sandbox-key',
      GONG_ACCESS_KEY_SECRET: 'sandbox-secret',
      GONG_BASE_URL: sandbox.url,
      GONG_MAX_RPS: String(RPS),
    };
    const share = Math.ceil(EMAILS / containers / 100) * 100;
    const emails = Array.from({ length: containers }, (_, i) => emailsOf(`c${i}-bench`, share));
    // Each container a process of its own (bench/container.ts): its own pacer and CPU, one table.
    const checkAll = async () => {
      const started = await Promise.all(emails.map((mine) => startContainer(env, mine)));
      const start = performance.now();
      const figures = await Promise.all(started.map((go) => go()));
      return { figures, seconds: (performance.now() - start) / 1000 };
    };
    if (workload === 'repeat') {
      await checkAll();
      const changed = emails.flat().filter((_, i) => i % Math.round(1 / CHANGED_SHARE) === 0);
      for (const email of changed)
        await sandbox.setUser({ email, exists: true, valid: false, ...CONSENT_PAGE_PROBLEM });
      // Fresh containers, once the blocks the first check claimed ahead have passed.
      await sleep(2_500);
      await sandbox.resetStats();
    }
    const databaseCpuBefore = processCpuMs(dynamo.pid);
    const { figures, seconds } = await checkAll();
    const databaseCpuMs = processCpuMs(dynamo.pid) - databaseCpuBefore;
    const startedAt = Math.min(...figures.map((figure) => Date.parse(figure.checkedAt)));
    const lastAnswer = Math.max(...figures.map((figure) => figure.lastAnswer));
    const stats = await sandbox.stats();
    const gaps = gapsBetween(stats.arrivals);
    const ideal = (Math.ceil(share / 100) * containers - 1) / RPS + LATENCY_MS / 1000;
    const changes = figures.reduce((sum, figure) => sum + figure.changes, 0);
    if (workload === 'repeat' && changes !== Math.ceil(share * containers * CHANGED_SHARE)) {
      throw new Error(`the repeat check saw ${changes} changes`);
    }
    return {
      efficiency: ideal / seconds,
      seconds,
      gongSeconds: (lastAnswer - startedAt) / 1000,
      minGapMs: Math.min(...gaps),
      p5GapMs: percentile(gaps, 5),
      rateLimited: stats.byStatus['429'] ?? 0,
      failures: figures.reduce((sum, figure) => sum + figure.failures, 0),
      containerCpuSeconds: figures.reduce((sum, figure) => sum + figure.cpuMs, 0) / 1000,
      databaseCpuSeconds: databaseCpuMs / 1000,
    };
  } finally {
    client.destroy();
    await Promise.all([sandbox.stop(), dynamo.stop()]);
  }
}

/** Starts a container process and loads the bundle in it; the function returned makes it check. */
async function startContainer(
  env: Record<string, string>,
  emails: string[],
): Promise<() => Promise<ContainerFigures>> {
  const child = fork(CONTAINER, { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`a bench container exited with ${code}`))),
  );
  exited.catch(() => undefined);
  const ready = new Promise((resolve) => child.once('message', resolve));
  child.send({ env, emails });
  await Promise.race([ready, exited]);
  return () => {
    const done = new Promise<ContainerFigures>((resolve) =>
      child.once('message', (figures) => resolve(figures as ContainerFigures)),
    );
    child.send('go');
    return Promise.race([done, exited]);
  };
}

async function measureSequential(): Promise<number> {
  const sandbox = await spawnGongSandbox({ rps: RPS, burst: 2, latencyMs: LATENCY_MS });
  try {
    const auth = `Basic ${Buffer.from('sandbox-key:sandbox-secret').toString('base64')}`;
    const emails = emailsOf('seq', EMAILS);
    const start = performance.now();
    for (let i = 0; i < EMAILS; i += 100) {
      const response = await fetch(`${sandbox.url}/v2/meetings/integration/status`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ emails: emails.slice(i, i + 100) }),
      });
      await response.arrayBuffer();
    }
    return (performance.now() - start) / 1000;
  } finally {
    await sandbox.stop();
  }
}

const spread = (values: number[], digits: number, unit = '') => {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (v: number | undefined) => `${(v ?? Number.NaN).toFixed(digits)}${unit}`;
  return `${f(sorted[0])} / ${f(sorted[Math.floor(sorted.length / 2)])} / ${f(sorted.at(-1))}`;
};

async function measureBulkCheck(): Promise<void> {
  const row = (name: string, value: string) => console.log(`${name.padEnd(40)} ${value}`);
  console.log(
    `\nBulk check: ${EMAILS} emails, ${calls} calls, sandbox ${RPS} calls/s (burst 2), ${LATENCY_MS} ms latency; ${RUNS} runs, min / median / max`,
  );
  row('ideal time', `${idealSeconds.toFixed(2)} s`);
  const cases: [Workload, number, string][] = [
    ['repeat', 1, `repeat check (a sweep: users known, ${CHANGED_SHARE * 100}% changed), one container`],
    ['repeat', 2, 'repeat check, two containers at once'],
    ['first', 1, 'first check (every user new to the table), one container'],
    ['first', 2, 'first check, two containers at once'],
  ];
  const workloads = new Set((process.env.BENCH_WORKLOADS ?? 'repeat,first').split(','));
  for (const [workload, containers, title] of cases.filter(([workload]) => workloads.has(workload))) {
    const runs: RunFigures[] = [];
    for (let run = 0; run < RUNS; run++) runs.push(await measureRun(run, containers, workload));
    const pick = (f: (r: RunFigures) => number) => runs.map(f);
    console.log(title);
    row(
      '  efficiency, whole invocation',
      spread(
        pick((r) => r.efficiency),
        3,
      ),
    );
    row(
      '  whole invocation (storage included)',
      spread(
        pick((r) => r.seconds),
        2,
        ' s',
      ),
    );
    row(
      '  first call to last Gong answer',
      spread(
        pick((r) => r.gongSeconds),
        2,
        ' s',
      ),
    );
    row(
      '  min gap between calls (sandbox)',
      spread(
        pick((r) => r.minGapMs),
        1,
        ' ms',
      ),
    );
    row(
      '  5th-percentile gap (sandbox)',
      spread(
        pick((r) => r.p5GapMs),
        1,
        ' ms',
      ),
    );
    row(
      '  429s',
      spread(
        pick((r) => r.rateLimited),
        0,
      ),
    );
    row(
      '  CPU: containers / database',
      `${spread(
        pick((r) => r.containerCpuSeconds),
        2,
        ' s',
      )}  /  ${spread(
        pick((r) => r.databaseCpuSeconds),
        2,
        ' s',
      )}`,
    );
    row(
      '  failures',
      spread(
        pick((r) => r.failures),
        0,
      ),
    );
  }
  const sequential: number[] = [];
  for (let run = 0; run < RUNS; run++) sequential.push(await measureSequential());
  console.log('sequential client (one batch after another)');
  row('  time', spread(sequential, 2, ' s'));
  row(
    '  efficiency (ideal / actual)',
    spread(
      sequential.map((s) => idealSeconds / s),
      3,
    ),
  );
}

// Bundles: size, and cold load time as a ratio over a bare `node -e ""` start measured alongside.
const timeNode = (code: string): number => {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    execFileSync(process.execPath, ['-e', code], { env: { ...process.env, ...BUNDLE_ENV }, stdio: 'pipe' });
    runs.push(performance.now() - t);
  }
  return runs.sort((a, b) => a - b)[2] ?? 0;
};
// Enough configuration for every bundle to finish its cold start (values are never used).
const BUNDLE_ENV = {
  HISTORY_TABLE: 't',
  GONG_ACCESS_KEY: 'k',
  GONG_ACCESS_KEY_SECRET: 's',
  SLACK_SIGNING_SECRET: 's',
  SLACK_BOT_TOKEN: 'xoxb-0',
  CRM_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  SLACK_WORKER_FUNCTION: 'w',
  SWEEP_FUNCTION: 's',
  ALERT_CHANNEL: 'C0',
  SALESFORCE_ORG_ID: '00D000000000001',
  SALESFORCE_TOKEN: 'bench-token-0123456789',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

function measureBundles(): void {
  const bare = timeNode('');
  console.log(`\nBundles (load time = median of 5 cold node starts; bare node = ${bare.toFixed(0)} ms)`);
  for (const file of Object.keys(FUNCTIONS).map((name) => `${name}.js`)) {
    const kib = statSync(`dist/${file}`).size / 1024;
    let loaded: number;
    try {
      loaded = timeNode(`require('./dist/${file}')`);
    } catch (error: unknown) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '');
      const reason = stderr.match(/\w*Error: .*/)?.[0] ?? 'load failed';
      console.log(`${file.padEnd(24)} ${kib.toFixed(0).padStart(5)} KiB   did not load: ${reason}`);
      continue;
    }
    console.log(
      `${file.padEnd(24)} ${kib.toFixed(0).padStart(5)} KiB   load +${(loaded - bare).toFixed(0)} ms (${(loaded / bare).toFixed(2)}x bare node)`,
    );
  }
}

measureBulkCheck()
  .then(measureBundles)
  .catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
