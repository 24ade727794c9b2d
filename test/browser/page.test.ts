import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPageResponder, type PageAssets } from '#lib/page/serve-page.ts';
import { type ListeningServer, listen } from '#local/http-server.ts';
import { buildPage } from '../../scripts/build/page.ts';
import { launchBrowser, openPage, screenshot, type TestBrowser } from '../support/browser.ts';
import { cannedDataRoutes } from './canned-data.ts';

// Nothing listens on port 9: the shell must render without ever calling the issuer.
const config = { authority: 'http://127.0.0.1:9/issuer', clientId: 'team-health' };

/** Serves the page as the api function will (its responder), plus the canned data routes. */
async function servePage(assets: PageAssets, seen: { path: string; authorization: string | undefined }[]) {
  const page = createPageResponder(assets, config);
  const data = cannedDataRoutes(seen);
  return listen(
    createServer((req, res) => {
      const answer = page.respond(new URL(req.url ?? '/', 'http://localhost').pathname);
      if (answer) {
        res.writeHead(answer.statusCode, answer.headers);
        res.end(answer.body);
      } else if (!data(req, res)) {
        res.writeHead(404).end();
      }
    }),
  );
}

describe('team-health page', () => {
  let browser: TestBrowser;
  let shell: ListeningServer;
  let canned: ListeningServer;
  const seen: { path: string; authorization: string | undefined }[] = [];
  let shots: string;

  beforeAll(async () => {
    const [app, cannedApp] = await Promise.all([
      buildPage(),
      buildPage({ entry: 'web/fixtures/canned-app.ts' }),
    ]);
    shell = await servePage(app, seen);
    canned = await servePage(cannedApp, seen);
    browser = await launchBrowser();
    shots = await mkdtemp(join(tmpdir(), 'team-health-shots-'));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await shell?.close();
    await canned?.close();
  });

  it('renders a Log in button and no console error when nobody is logged in', async () => {
    const { page, errors } = await openPage(browser);

    const response = await page.goto(`${shell.url}/`);
    const login = page.getByRole('button', { name: 'Log in' });
    await login.waitFor();
    // Served as a warm api container serves it (the responder, no per-request reload): the page's own cost.
    const paint = await page.evaluate(
      () =>
        (
          globalThis as unknown as { performance: { getEntriesByName(n: string): { startTime: number }[] } }
        ).performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    );
    console.log(`team-health shell, warm server: first contentful paint ${Math.round(paint)} ms`);
    expect(paint).toBeLessThan(5_000);

    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Team health');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await login.evaluate((button) => button === button.ownerDocument.activeElement)).toBe(true);
    await screenshot(page, join(shots, 'shell.png'));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows counts, trend, problems biggest first and the users to an admin, with no console error', async () => {
    const { page, errors } = await openPage(browser);

    await page.goto(`${canned.url}/?as=admin`);
    await page.getByRole('table', { name: /Invalid: 4 users/ }).waitFor();

    expect(await page.locator('#share').textContent()).toBe('87.5%');
    expect(await page.locator('#count-invalid').textContent()).toBe('4');
    expect(await page.getByText('As counted by the sweep of 2026-11-28').count()).toBe(1);
    expect(await page.locator('.chart canvas').count()).toBe(1);
    expect(await page.locator('.problem-count').allTextContents()).toEqual(['3 users', '1 user']);
    expect(await page.getByRole('link', { name: 'Fix it for the company' }).getAttribute('href')).toBe(
      'https://app.gong.example/company/consent',
    );
    expect(
      seen
        .filter((call) => call.path.startsWith('/v1/'))
        .every((c) => c.authorization === 'Bearer admin-token'),
    ).toBe(true);
    await screenshot(page, join(shots, 'admin.png'));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('opens a user’s timeline from the keyboard, with how long each broken spell lasted', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${canned.url}/?as=admin`);
    const users = page.getByRole('table', { name: /Invalid: 4 users/ });

    await users.getByRole('button', { name: 'Show history of ada@example.com' }).focus();
    await page.keyboard.press('Enter');
    const timeline = page.getByRole('table', { name: 'History of ada@example.com, newest first' });
    await timeline.waitFor();

    const rows = await timeline.locator('tbody tr').allInnerTexts();
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/Invalid[\s\S]*still[\s\S]*3 days 2 hours/);
    expect(rows[1]).toMatch(/OK[\s\S]*13 days 9 hours/);
    expect(rows[2]).toMatch(/Invalid[\s\S]*2 days 18 hours[\s\S]*Recording consent was withdrawn/);
    expect(await page.locator('#timeline-title').evaluate((h) => h === h.ownerDocument.activeElement)).toBe(
      true,
    );
    expect(errors).toEqual([]);
    await page.close();
  });

  it('downloads the current listing as CSV with a dated file name', async () => {
    const { page, errors } = await openPage(browser);
    await page.goto(`${canned.url}/?as=admin`);
    await page.getByRole('table', { name: /Invalid: 4 users/ }).waitFor();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);

    expect(download.suggestedFilename()).toBe('gong-status-INVALID-2026-11-28.csv');
    const path = await download.path();
    expect(await readFile(path, 'utf8')).toMatch(/^email,status,since,checkedAt,userFacingError,fixUrl\r\n/);
    expect(seen.some((c) => c.path === '/v1/users?status=INVALID&format=csv')).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('lists another status when the filter changes', async () => {
    const { page } = await openPage(browser);
    await page.goto(`${canned.url}/?as=admin`);
    await page.getByRole('table', { name: /Invalid: 4 users/ }).waitFor();

    await page.getByLabel('Status').selectOption('OK');

    await page.getByRole('table', { name: /OK: 1 users/ }).waitFor();
    expect(await page.getByRole('button', { name: 'Show history of eve@example.com' }).count()).toBe(1);
    await page.close();
  });

  it('shows a member only their own status and history when problems answer 403', async () => {
    const { page, errors } = await openPage(browser);

    await page.goto(`${canned.url}/?as=member`);
    await page.getByRole('heading', { name: 'Your status (ada@example.com)' }).waitFor();

    expect(await page.getByRole('heading', { name: 'Problems' }).count()).toBe(0);
    expect(await page.locator('.current').textContent()).toMatch(/Invalid[\s\S]*Fix it/);
    // The 403 of /v1/problems is the answer the page asks for; the browser logs it as a failed resource.
    expect(errors.filter((e) => !e.includes('403'))).toEqual([]);
    await page.close();
  });

  it('asks to log in again when the token is refused', async () => {
    const { page } = await openPage(browser);

    await page.goto(`${canned.url}/?as=expired`);

    await page.getByRole('button', { name: 'Log in' }).waitFor();
    expect(await page.getByText('Log in again').count()).toBe(1);
    await page.close();
  });
});
