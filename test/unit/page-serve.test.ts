import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy, createPageResponder, scriptSafeJson } from '#lib/page/serve-page.ts';

const shell =
  '<html><head><link rel="stylesheet" href="app.css"><script id="config" type="application/json">{}</script>' +
  '<script defer src="app.js"></script></head><body></body></html>';
const assets = { html: shell, js: 'console.log(1)', css: 'body{}' };
const config = { authority: 'https://issuer.example.com/pool', clientId: 'page' };

describe('createPageResponder', () => {
  it('returns the shell at / with the config injected and the hashed asset names', () => {
    const page = createPageResponder(assets, config);

    const answer = page.respond('/');

    expect(answer?.statusCode).toBe(200);
    expect(answer?.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer?.headers['cache-control']).toBe('no-cache');
    expect(answer?.body).toContain(
      `<script id="config" type="application/json">${JSON.stringify(config)}</script>`,
    );
    expect(page.paths.js).toMatch(/^\/app\.[0-9a-f]{12}\.js$/);
    expect(answer?.body).toContain(`src="${page.paths.js.slice(1)}"`);
    expect(answer?.body).toContain(`href="${page.paths.css.slice(1)}"`);
  });

  it('returns the script and stylesheet with their types and a long cache under hashed names', () => {
    const page = createPageResponder(assets, config);

    const js = page.respond(page.paths.js);
    const css = page.respond(page.paths.css);

    expect(js).toMatchObject({ statusCode: 200, body: assets.js });
    expect(js?.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js?.headers['cache-control']).toContain('immutable');
    expect(css?.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('returns gzip (base64) to a client that accepts it, the same bytes uncompressed', () => {
    const page = createPageResponder(assets, config);

    const plain = page.respond(page.paths.js);
    const gzipped = page.respond(page.paths.js, 'gzip, deflate, br');

    expect(plain?.isBase64Encoded).toBeUndefined();
    expect(plain?.headers.vary).toBe('accept-encoding');
    expect(gzipped).toMatchObject({ statusCode: 200, isBase64Encoded: true });
    expect(gzipped?.headers).toMatchObject({ 'content-encoding': 'gzip', vary: 'accept-encoding' });
    expect(gunzipSync(Buffer.from(String(gzipped?.body), 'base64')).toString('utf8')).toBe(assets.js);
  });

  it('returns a new script name when the script changes', () => {
    const before = createPageResponder(assets, config).paths.js;
    const after = createPageResponder({ ...assets, js: 'console.log(2)' }, config).paths.js;

    expect(after).not.toBe(before);
  });

  it('returns undefined for a path that is not the page', () => {
    const page = createPageResponder(assets, config);

    expect(page.respond('/app.js')).toBeUndefined();
    expect(page.respond('/v1/users')).toBeUndefined();
  });

  it('keeps a config value from closing the script element', () => {
    const page = createPageResponder(assets, { ...config, clientId: '</script><script>alert(1)</script>' });

    const body = page.respond('/')?.body ?? '';

    expect(body).not.toContain('</script><script>alert');
    expect(body).toContain('\\u003c/script\\u003e');
  });

  it('throws when the shell has no config placeholder', () => {
    expect(() => createPageResponder({ ...assets, html: '<html></html>' }, config)).toThrow(
      /no <script id="config"/,
    );
  });
});

describe('scriptSafeJson', () => {
  it('returns JSON that parses back to the same value', () => {
    const value = { a: '<b>&</b>\u2028', n: 1 };

    expect(JSON.parse(scriptSafeJson(value))).toEqual(value);
    expect(scriptSafeJson(value)).not.toMatch(/[<>&\u2028]/);
  });
});

describe('contentSecurityPolicy', () => {
  it('returns a policy that lets the page call only itself, the issuer and the origins given', () => {
    const policy = contentSecurityPolicy(config, ['https://pool.auth.eu-west-1.amazoncognito.com']);

    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain(
      "connect-src 'self' https://issuer.example.com https://pool.auth.eu-west-1.amazoncognito.com",
    );
    expect(policy).not.toContain('unsafe-inline');
  });

  it('adds the API origin when the API lives elsewhere', () => {
    expect(contentSecurityPolicy({ ...config, apiBase: 'https://api.example.com/prod' })).toContain(
      'https://api.example.com',
    );
  });

  it('throws when the issuer is not an http(s) URL', () => {
    expect(() => contentSecurityPolicy({ ...config, authority: 'javascript:alert(1)' })).toThrow(/http\(s\)/);
  });
});
