import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CheckReport } from '#lib/check/report.ts';
import { cleanEnv, runCli } from '../support/cli.ts';
import { startTestStack, type TestStack } from '../support/stack.ts';

describe('npm run check / npm run history against the Gong sandbox, with the environment the functions read', () => {
  let stack: TestStack;
  let env: NodeJS.ProcessEnv;
  let dir: string;

  beforeAll(async () => {
    stack = await startTestStack({ gong: { rps: 100 } });
    env = cleanEnv(stack.env);
    dir = await mkdtemp(join(tmpdir(), 'gong-status-cli-'));
  });
  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => stack.gong.resetStats());

  it('exits 0 and prints a plain table when every user is valid', async () => {
    const run = await runCli('check', ['ada@example.com', 'Margaret@Example.com'], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^STATUS\s+EMAIL\s+MESSAGE\s+FIX\nOK\s+ada@example.com\nOK\s+margaret@example.com\n/,
    );
    expect(run.stdout).toContain('2 checked: 2 valid, 0 invalid, 0 not in Gong, 0 failed');
    // Not a terminal: no colours.
    expect(run.stdout).not.toContain('\x1b[');
    expect(stack.gong.stats.calls).toBe(1);
  });

  it('exits 1 and prints the report as JSON when a user is invalid or unknown', async () => {
    const run = await runCli(
      'check',
      ['--json', 'grace@example.com', 'nobody@example.com', 'ada@example.com'],
      {
        env,
      },
    );
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as CheckReport;
    expect(report.results.map((r) => [r.email, r.status])).toEqual([
      ['grace@example.com', 'INVALID'],
      ['nobody@example.com', 'NOT_IN_GONG'],
      ['ada@example.com', 'OK'],
    ]);
    expect(report.results[0]?.fixUrl).toMatch(/^https:\/\/.+\.app\.gong\.io\//);
    expect(report.summary).toEqual({ total: 3, valid: 1, invalid: 1, notFound: 1, failed: 0 });
  });

  it('exits 2 and names the failure when Gong refuses the call', async () => {
    stack.gong.injectFault({ kind: 'status', status: 403 });
    const run = await runCli('check', ['--json', 'ada@example.com'], { env });
    expect(run.code).toBe(2);
    const report = JSON.parse(run.stdout) as CheckReport;
    expect(report.failures).toEqual([
      expect.objectContaining({ email: 'ada@example.com', code: 'GONG_FORBIDDEN' }),
    ]);
    expect(report.summary.failed).toBe(1);
  });

  it('exits 2 naming the bad entries, before asking Gong anything', async () => {
    const run = await runCli('check', ['ada@example.com', 'not-an-email'], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('#1 "not-an-email"');
    expect(run.stdout).toBe('');
    expect(stack.gong.stats.calls).toBe(0);
  });

  it('reads emails from stdin and from a CSV file', async () => {
    const fromStdin = await runCli('check', ['--json'], {
      env,
      stdin: 'ada@example.com\nlinus@example.com\n',
    });
    expect(fromStdin.code).toBe(1);
    expect((JSON.parse(fromStdin.stdout) as CheckReport).summary).toMatchObject({ total: 2, invalid: 1 });

    const csv = join(dir, 'team.csv');
    await writeFile(csv, 'name,email\n"Lovelace, Ada",ada@example.com\nMargaret,margaret@example.com\n');
    const fromFile = await runCli('check', ['--file', csv], { env });
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain('2 checked: 2 valid');
  });

  it('shows calls done of total while checking more than 100 emails', async () => {
    const emails = Array.from({ length: 150 }, (_, i) => `bulk${i}@example.com`).join('\n');
    const run = await runCli('check', [], { env, stdin: emails });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('checking 150 emails: calls 1/2, ETA');
    expect(run.stderr).toContain('checking 150 emails: calls 2/2');
    expect(stack.gong.stats.emailsPerCall.sort()).toEqual([100, 50].sort());
  });

  it('prints a user history newest first, and exits 1 for a user never checked', async () => {
    const email = `history-${Date.now()}@example.com`;
    await runCli('check', [email], { env });
    await runCli('check', [email], { env });
    const run = await runCli('history', ['--json', email], { env });
    expect(run.code).toBe(0);
    const { items } = JSON.parse(run.stdout) as { items: { checkedAt: string; source: string }[] };
    expect(items).toHaveLength(2);
    expect(String(items[0]?.checkedAt) > String(items[1]?.checkedAt)).toBe(true);
    expect(items[0]?.source).toBe('cli');

    const table = await runCli('history', [email], { env });
    expect(table.stdout).toMatch(new RegExp(`${email}: 2 checks, newest first`));

    const never = await runCli('history', ['never-checked@example.com'], { env });
    expect(never.code).toBe(1);
    expect(never.stderr).toContain('never-checked@example.com has never been checked');
  });
});

describe('npm run check with no configuration and no npm start running', () => {
  it('starts dynalite on LOCAL_DATA_DIR and the sandbox itself, and keeps the history there', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'gong-status-data-'));
    try {
      const env = cleanEnv({ LOCAL_DATA_DIR: dataDir });
      const check = await runCli('check', ['--json', 'grace@example.com'], { env });
      expect(check.code).toBe(1);
      expect(check.stderr).toContain('Gong SANDBOX');
      expect((JSON.parse(check.stdout) as CheckReport).results[0]?.status).toBe('INVALID');

      // A second process, a second dynalite on the same files: the first one let go of them.
      const history = await runCli('history', ['--json', 'grace@example.com'], { env });
      expect(history.code).toBe(0);
      expect((JSON.parse(history.stdout) as { items: unknown[] }).items).toHaveLength(1);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
