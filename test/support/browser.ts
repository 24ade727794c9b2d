import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); playwright-core never downloads a browser of its own. */
export const CHROMIUM = '/usr/bin/chromium';

/** A headless Chromium with a fresh profile, and how to close it and remove the profile. */
export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches Chromium as root on a closed network: without the background-networking flags it tries
 * its own connections out, which the network refuses.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'gong-status-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1200, height: 900 },
    locale: 'en-GB',
    timezoneId: 'UTC',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** A page with every console error and uncaught exception it shows collected in `errors`. */
export interface WatchedPage {
  page: Page;
  errors: string[];
  /** `<status> <method> <url>` of every answer of 400 or more: a console error names no URL. */
  failedRequests: string[];
}

/** Opens a page that records console errors (CSP violations among them) and page errors. */
export async function openPage(browser: TestBrowser): Promise<WatchedPage> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    // A failed resource's message names no URL; its location does (a favicon is no page request).
    if (message.type() === 'error') errors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => errors.push(`${error.name}: ${error.message}`));
  const failedRequests: string[] = [];
  page.on('response', (response) => {
    if (response.status() >= 400)
      failedRequests.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
  return { page, errors, failedRequests };
}

/** Saves a full-page screenshot as PNG. */
export async function screenshot(page: Page, path: string): Promise<void> {
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
}
