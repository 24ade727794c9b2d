import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MINT_PATH } from '#local/oidc-issuer.ts';
import type { StackState } from '#local/stack.ts';
import { launchBrowser, openPage, screenshot, type TestBrowser } from '../support/browser.ts';
import { cleanEnv } from '../support/cli.ts';
import { type NpmStart, npmStart, quietPorts, waitForState } from '../support/npm-start.ts';

const ROOT = resolve(import.meta.dirname, '../..');
/** The sandbox's broken-by-rule addresses: one company-wide cause (the consent page) for all of them. */
const BROKEN = ['broken1', 'broken2', 'broken3', 'broken4', 'broken5'].map((name) => `${name}@example.com`);
const SANDBOX_USERS = [
  'ada@example.com',
  'margaret@example.com',
  'grace@example.com',
  'linus@example.com',
  'nobody@example.com',
  ...BROKEN,
];

/** What the browser measured of the first load of the shell (README "The team-health page"). */
interface FirstLoad {
  transferBytes: number;
  decodedBytes: number;
  firstContentfulPaintMs: number;
}

async function measureFirstLoad(page: Page): Promise<FirstLoad> {
  return page.evaluate(() => {
    // The browser's Performance API, typed by hand: the tests compile without the DOM library.
    const { performance } = globalThis as unknown as {
      performance: {
        getEntriesByType(type: string): { transferSize: number; decodedBodySize: number }[];
        getEntriesByName(name: string): { startTime: number }[];
      };
    };
    const entries = [
      ...performance.getEntriesByType('navigation'),
      ...performance.getEntriesByType('resource'),
    ];
    const paint = performance.getEntriesByName('first-contentful-paint')[0];
    return {
      transferBytes: entries.reduce((sum, entry) => sum + entry.transferSize, 0),
      decodedBytes: entries.reduce((sum, entry) => sum + entry.decodedBodySize, 0),
      firstContentfulPaintMs: Math.round(paint?.startTime ?? Number.NaN),
    };
  });
}

/** Clicks Log in on the page, signs in on the local issuer's form as `email`, and comes back logged in. */
async function logIn(page: Page, url: string, email: string): Promise<void> {
  await page.goto(url);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('input[name=login]').fill(email);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Logged in as ${email}`).waitFor();
}

/** Runs `npm run sweep` (the CLI) against the running npm start: it stores the day's snapshot. */
function runSweep(env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/cli/sweep.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  return new Promise((done, failed) => {
    child.once('error', failed);
    child.once('close', (code) => done({ code, output }));
  });
}

describe('team-health page through npm start (local issuer, real api, Chromium)', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let run: NpmStart | undefined;
  let state: StackState;
  let site: string;
  let browser: TestBrowser;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gong-status-page-e2e-'));
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
    run = npmStart(env);
    state = await waitForState(dataDir, run, 90_000);
    // The issuer registers the page at localhost and 127.0.0.1 of PORT; the banner prints this one.
    site = `http://localhost:${http}/`;
    expect(run.output()).toContain(site);
    expect(run.output()).toContain('admin@example.com');

    // Seed as an admin would: a check of the sandbox's users through the API, then a sweep.
    const issuerUrl = (state.urls as { issuer?: string }).issuer;
    if (!issuerUrl) throw new Error(`npm start runs no issuer:\n${run.output()}`);
    const minted = await fetch(`${issuerUrl}${MINT_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.com', admin: true }),
    });
    const { access_token: token } = (await minted.json()) as { access_token: string };
    const check = await fetch(`${state.urls.http}/v1/checks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ emails: SANDBOX_USERS }),
    });
    expect(check.status).toBe(200);
    const sweep = await runSweep(env);
    expect(sweep.code, sweep.output).toBe(0);

    browser = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await run?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('logs an admin in through the issuer: counts, trend, grouped problems, a timeline, the CSV', async () => {
    const { page, errors, failedRequests } = await openPage(browser);

    await page.goto(site);
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    const firstLoad = await measureFirstLoad(page);
    console.log(
      `team-health page, first load: ${(firstLoad.transferBytes / 1024).toFixed(1)} KiB transferred ` +
        `(${(firstLoad.decodedBytes / 1024).toFixed(1)} KiB decoded), first contentful paint ${firstLoad.firstContentfulPaintMs} ms`,
    );
    expect(firstLoad.transferBytes).toBeLessThan(80 * 1024);
    // Under npm start serverless-offline loads the api bundle afresh for every request (reloadHandler),
    // so each answer costs a cold start: the bound is loose, the measure is printed.
    expect(firstLoad.firstContentfulPaintMs).toBeLessThan(15_000);

    const loggedInAt = Date.now();
    await logIn(page, site, 'admin@example.com');
    await page.getByRole('heading', { name: 'Problems' }).waitFor();
    console.log(`team-health page, login to the admin view: ${Date.now() - loggedInAt} ms`);

    expect(await page.locator('#count-invalid').textContent()).toBe(String(BROKEN.length + 2));
    expect(await page.locator('#count-ok').textContent()).toBe('2');
    expect(await page.locator('#share').textContent()).toBe('20%');
    expect(await page.locator('.chart canvas').count()).toBe(1);
    // Biggest first: the consent page (company-wide, 6 users), then calendar and not-in-Gong (1 each).
    expect((await page.locator('.problem-count').allTextContents())[0]).toBe(`${BROKEN.length + 1} users`);
    expect(await page.getByRole('link', { name: 'Fix it for the company' }).count()).toBe(1);

    await page.getByRole('button', { name: 'Show history of grace@example.com' }).first().click();
    const timeline = page.getByRole('table', { name: 'History of grace@example.com, newest first' });
    await timeline.waitFor();
    expect(await timeline.locator('tbody tr').first().textContent()).toMatch(/Invalid[\s\S]*still/);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const csv = await readFile(await download.path(), 'utf8');
    expect(csv.split('\r\n')[0]).toBe('email,status,since,checkedAt,userFacingError,fixUrl');
    for (const email of [...BROKEN, 'grace@example.com', 'linus@example.com']) {
      expect(csv).toContain(`\r\n${email},INVALID,`);
    }

    await timeline.scrollIntoViewIfNeeded();
    // The README's picture is refreshed on purpose (UPDATE_SCREENSHOTS=1 npx vitest run test/browser),
    // not rewritten in the working tree by every test run.
    await screenshot(
      page,
      process.env.UPDATE_SCREENSHOTS === '1'
        ? 'docs/team-health.png'
        : join(tmpdir(), `team-health-${process.pid}.png`),
    );
    expect(errors, failedRequests.join('\n')).toEqual([]);
    await page.close();
  }, 90_000);

  it('shows a member who logs in only their own status and history', async () => {
    const member = await launchBrowser();
    try {
      const { page, errors, failedRequests } = await openPage(member);

      await logIn(page, site, 'grace@example.com');
      await page.getByRole('heading', { name: 'Your status (grace@example.com)' }).waitFor();

      expect(await page.getByRole('heading', { name: 'Problems' }).count()).toBe(0);
      expect(await page.locator('.chart').count()).toBe(0);
      expect(await page.getByRole('button', { name: 'Download CSV' }).count()).toBe(0);
      expect(await page.locator('.current').textContent()).toMatch(/Invalid[\s\S]*Fix it/);
      expect(await page.getByText('ada@example.com').count()).toBe(0);
      expect(errors, failedRequests.join('\n')).toEqual([]);
      await page.close();
    } finally {
      await member.close();
    }
  }, 90_000);
});
