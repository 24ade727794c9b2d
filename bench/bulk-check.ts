import { execFileSync, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { CheckReport } from '#lib/check/report.ts';
import { freePort } from '#local/dynamodb.ts';
import { FUNCTIONS } from '../scripts/build/functions.ts';
import { loadHandler, startTestStack } from '../test/support/stack.ts';

// Bulk check at Gong's pace: the sandbox allows RPS calls a second and answers in LATENCY_MS;
// the product is told GONG_MAX_RPS=RPS. Ideal time = (calls - 1) / rps + latency.
const EMAILS = Number(process.env.BENCH_EMAILS ?? 6000);
const RPS = 20;
const LATENCY_MS = 250;

const emails = Array.from({ length: EMAILS }, (_, i) => `bench${i}@example.com`);
const calls = Math.ceil(EMAILS / 100);
const idealSeconds = (calls - 1) / RPS + LATENCY_MS / 1000;

async function measureBulkCheck(): Promise<void> {
  // Gong is another machine: the sandbox runs in its own process, so its timers never wait on ours.
  const port = await freePort();
  const sandbox = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'local/gong-sandbox.ts',
      '--port',
      String(port),
      '--rps',
      String(RPS),
      '--latency',
      String(LATENCY_MS),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    sandbox.stdout?.once('data', () => resolve());
    sandbox.once('exit', (code) => reject(new Error(`Gong sandbox exited with ${code}`)));
  });
  const gongUrl = `http://127.0.0.1:${port}`;
  const stats = async () =>
    (await (await fetch(`${gongUrl}/_sandbox/stats`)).json()) as {
      calls: number;
      byStatus: Record<string, number>;
    };
  // On this 2-core machine the local DynamoDB would take the CPU that, in AWS, the Lambda has to
  // itself (the database is another machine): it runs at low priority here.
  const stack = await startTestStack({ lowPriorityDynamo: true });
  try {
    // Baseline in the same run: a plain client sending one batch after another.
    const auth = `Basic ${Buffer.from('sandbox-key:sandbox-secret').toString('base64')}`;
    let sequentialFailures = 0;
    const sequentialStart = performance.now();
    for (let i = 0; i < EMAILS; i += 100) {
      const response = await fetch(`${gongUrl}/v2/meetings/integration/status`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify({ emails: emails.slice(i, i + 100) }),
      });
      if (response.status !== 200) sequentialFailures += 100;
      await response.arrayBuffer();
    }
    const sequentialSeconds = (performance.now() - sequentialStart) / 1000;

    await new Promise((resolve) => setTimeout(resolve, 1500)); // let the sandbox's bucket refill
    await fetch(`${gongUrl}/_sandbox/reset-stats`, { method: 'POST' });
    const checkStatus = loadHandler('checkStatus', {
      ...Object.fromEntries(Object.entries(stack.env).filter(([key]) => key !== 'GONG_SECRET_ID')),
      GONG_ACCESS_KEY: 'sandbox-key',
      GONG_ACCESS_KEY_SECRET: 'sandbox-secret',
      GONG_BASE_URL: gongUrl,
      GONG_MAX_RPS: String(RPS),
    }) as (event: unknown, context?: { timeoutMs?: number }) => Promise<CheckReport>;
    const start = performance.now();
    const cpuBefore = process.cpuUsage();
    const report = await checkStatus({ emails, source: 'bench' }, { timeoutMs: 120_000 });
    const seconds = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    // The paced part ends with Gong's last answer (each result's checkedAt is when its answer came).
    const startedAt = Date.parse(report.checkedAt);
    const lastAnswer = Math.max(...report.results.map((r) => Date.parse(r.checkedAt)));
    const gongSeconds = (lastAnswer - startedAt) / 1000;

    const row = (name: string, value: string) => console.log(`${name.padEnd(34)} ${value}`);
    console.log(
      `\nBulk check: ${EMAILS} emails, ${calls} calls, sandbox ${RPS} calls/s and ${LATENCY_MS} ms latency`,
    );
    row('ideal time', `${idealSeconds.toFixed(2)} s`);
    row('gong-status: last Gong answer at', `${gongSeconds.toFixed(2)} s`);
    row('  efficiency (ideal / actual)', (idealSeconds / gongSeconds).toFixed(3));
    row(
      '  whole invocation, with storage',
      `${seconds.toFixed(2)} s (${EMAILS * 2} items to dynalite, at low priority)`,
    );
    const seen = await stats();
    row('  CPU used by the invocation', `${cpuSeconds.toFixed(2)} s`);
    row('  Gong calls / 429s seen', `${seen.calls} / ${seen.byStatus[429] ?? 0}`);
    row('  failures', `${report.failures.length} (results ${report.results.length})`);
    row('sequential baseline', `${sequentialSeconds.toFixed(2)} s`);
    row('  efficiency (ideal / actual)', (idealSeconds / sequentialSeconds).toFixed(3));
    row('  failures', String(sequentialFailures));
    row('paced calls vs sequential', `${(sequentialSeconds / gongSeconds).toFixed(2)}x faster`);
  } finally {
    sandbox.kill('SIGTERM');
    await stack.stop();
  }
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
