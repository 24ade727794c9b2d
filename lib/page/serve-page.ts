import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { PageConfig } from './page-config.ts';

export type { PageConfig } from './page-config.ts';

/** The built page: the HTML shell and the one script and stylesheet it loads. */
export interface PageAssets {
  html: string;
  js: string;
  css: string;
}

/** An answer in the shape API Gateway's payload v2 takes. */
export interface PageResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
  /** True when `body` is base64 of gzip bytes (`content-encoding: gzip`). */
  isBase64Encoded?: boolean;
}

/** The page's answers, built once per container; `respond` is a lookup, no work per request. */
export interface PageResponder {
  /** The paths it answers: `/`, and the script and stylesheet under content-hashed names. */
  paths: { html: string; js: string; css: string };
  /**
   * The answer for a GET of `path`, or undefined when the path is not the page's; gzip-compressed
   * when `acceptEncoding` (the request's Accept-Encoding) allows it.
   */
  respond(path: string, acceptEncoding?: string): PageResponse | undefined;
}

const CONFIG_PLACEHOLDER = '<script id="config" type="application/json">{}</script>';
const SCRIPT_PLACEHOLDER = 'src="app.js"';
const STYLE_PLACEHOLDER = 'href="app.css"';

/** JSON that is safe inside a `<script>` element: nothing in it can close the element or open a comment. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replaceAll('<', '\\u003c')
    .replaceAll('>', '\\u003e')
    .replaceAll('&', '\\u0026')
    .replaceAll('\u2028', '\\u2028')
    .replaceAll('\u2029', '\\u2029');
}

/** The origin of a URL, refusing anything that is not http(s): it goes into a security policy. */
function originOf(url: string): string {
  const parsed = new URL(url);
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new Error(`Not an http(s) URL for the page's policy: ${parsed.protocol}`);
  }
  return parsed.origin;
}

/**
 * The page's Content-Security-Policy: its own script and style only, data calls to itself, the API and
 * the issuer (discovery, token and keys), no frames, no plugins.
 */
export function contentSecurityPolicy(config: PageConfig, connectOrigins: readonly string[] = []): string {
  const connect = new Set(["'self'", originOf(config.authority), ...connectOrigins.map(originOf)]);
  if (config.apiBase && /^https?:/.test(config.apiBase)) connect.add(originOf(config.apiBase));
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${[...connect].join(' ')}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

function hashed(name: string, ext: string, body: string): string {
  return `/${name}.${createHash('sha256').update(body).digest('hex').slice(0, 12)}.${ext}`;
}

function replaceOnce(html: string, placeholder: string, value: string): string {
  const at = html.indexOf(placeholder);
  if (at === -1) throw new Error(`The page shell has no ${placeholder}`);
  return html.slice(0, at) + value + html.slice(at + placeholder.length);
}

/**
 * Builds the answers to `GET /` (the shell with the config injected and the hashed asset names) and to
 * the script and stylesheet. `connectOrigins` adds origins the page calls besides the issuer's — Cognito's
 * token endpoint lives on its hosted-UI domain, not on the issuer's.
 */
export function createPageResponder(
  assets: PageAssets,
  config: PageConfig,
  options: { connectOrigins?: readonly string[] } = {},
): PageResponder {
  const paths = { html: '/', js: hashed('app', 'js', assets.js), css: hashed('app', 'css', assets.css) };
  let html = replaceOnce(
    assets.html,
    CONFIG_PLACEHOLDER,
    `<script id="config" type="application/json">${scriptSafeJson(config)}</script>`,
  );
  // Relative names keep working when the API is served under a stage prefix (/dev/).
  html = replaceOnce(html, SCRIPT_PLACEHOLDER, `src="${paths.js.slice(1)}"`);
  html = replaceOnce(html, STYLE_PLACEHOLDER, `href="${paths.css.slice(1)}"`);

  const common = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  // The name changes with the content, so a cached copy is never stale.
  const immutable = 'public, max-age=31536000, immutable';
  const answers = new Map<string, PageResponse>([
    [
      paths.html,
      {
        statusCode: 200,
        headers: {
          ...common,
          'content-type': 'text/html; charset=utf-8',
          // The shell names the current asset hashes: always revalidate it.
          'cache-control': 'no-cache',
          'content-security-policy': contentSecurityPolicy(config, options.connectOrigins),
        },
        body: html,
      },
    ],
    [
      paths.js,
      {
        statusCode: 200,
        headers: { ...common, 'content-type': 'text/javascript; charset=utf-8', 'cache-control': immutable },
        body: assets.js,
      },
    ],
    [
      paths.css,
      {
        statusCode: 200,
        headers: { ...common, 'content-type': 'text/css; charset=utf-8', 'cache-control': immutable },
        body: assets.css,
      },
    ],
  ]);

  // API Gateway's HTTP APIs never compress: the script is a third of its size gzipped, so compress it
  // once per container and send that to every browser (they all accept gzip).
  const compressed = new Map<string, PageResponse>();
  for (const [path, answer] of answers) {
    compressed.set(path, {
      ...answer,
      headers: { ...answer.headers, 'content-encoding': 'gzip', vary: 'accept-encoding' },
      body: gzipSync(answer.body, { level: 9 }).toString('base64'),
      isBase64Encoded: true,
    });
    answer.headers.vary = 'accept-encoding';
  }

  return {
    paths,
    respond(path, acceptEncoding) {
      const key = path === '' ? '/' : path;
      const answer = (/\bgzip\b/i.test(acceptEncoding ?? '') ? compressed : answers).get(key);
      return answer && { ...answer, headers: { ...answer.headers } };
    },
  };
}
