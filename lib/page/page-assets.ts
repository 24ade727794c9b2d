import type { PageAssets } from './serve-page.ts';

/**
 * The built team-health page. The build (scripts/build/page.ts `embedPage`) replaces this module in
 * the api bundle with the assets themselves, so the page ships inside the function: no bucket, no CDN.
 * Loaded unbundled there is no page.
 */
export const pageAssets: PageAssets | undefined = undefined;
