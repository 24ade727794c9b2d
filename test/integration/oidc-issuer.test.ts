import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, type MockInstance, vi } from 'vitest';
import { createTokenVerifier, type TokenVerifier, UnauthorizedError } from '#lib/auth/verify-token.ts';
import { type OidcIssuer, startOidcIssuer } from '#local/oidc-issuer.ts';
import { type StackState, writeState } from '#local/stack.ts';
import { cleanEnv } from '../support/cli.ts';

const REDIRECT_URI = 'http://localhost:3000/';

/** A browser's cookie handling, as much as a login needs: name=value per host, no expiry. */
class CookieJar {
  readonly #cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const at = pair.indexOf('=');
      if (at > 0) this.#cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
  }
  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

/** Follows redirects like a browser until one leaves the issuer (the page's redirect URI) or a page answers. */
async function follow(
  jar: CookieJar,
  start: string,
  init: RequestInit = {},
): Promise<{ response: Response; url: string }> {
  let url = start;
  let request = init;
  for (let hop = 0; hop < 20; hop++) {
    const headers = new Headers(request.headers);
    headers.set('cookie', jar.header());
    const response = await fetch(url, { ...request, headers, redirect: 'manual' });
    jar.store(response);
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { response, url };
    await response.arrayBuffer();
    url = new URL(location, url).href;
    if (url.startsWith(REDIRECT_URI)) return { response, url };
    request = {};
  }
  throw new Error(`too many redirects from ${start}`);
}

/** The whole authorization code + PKCE login, driving the issuer's HTML form as a person would. */
async function browserLogin(issuer: OidcIssuer, email: string, scope = 'openid email'): Promise<string> {
  const discovery = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as {
    authorization_endpoint: string;
    token_endpoint: string;
  };
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('hex');
  const authorize = new URL(discovery.authorization_endpoint);
  authorize.search = new URLSearchParams({
    client_id: issuer.pageClientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();

  const jar = new CookieJar();
  const login = await follow(jar, authorize.href);
  expect(login.response.status).toBe(200);
  const html = await login.response.text();
  expect(html).toMatch(/<input[^>]*type="email"[^>]*name="login"/);
  expect(html).toMatch(/<input[^>]*type="password"/);
  expect(html.match(/<button[^>]*type="submit"/g)).toHaveLength(1);
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error('login page has no form action');

  const landed = await follow(jar, new URL(action, login.url).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login: email, password: 'anything at all' }).toString(),
  });
  const callback = new URL(landed.url);
  expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
  expect(callback.searchParams.get('state')).toBe(state);
  const code = callback.searchParams.get('code');
  if (!code) throw new Error(`no code in ${landed.url}`);

  const tokenResponse = await fetch(discovery.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:3000' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      client_id: issuer.pageClientId,
      code_verifier: verifier,
    }).toString(),
  });
  expect(tokenResponse.status).toBe(200);
  expect(tokenResponse.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
  const tokens = (await tokenResponse.json()) as { access_token: string; token_type: string };
  expect(tokens.token_type).toBe('Bearer');
  return tokens.access_token;
}

async function mintOverHttp(issuer: OidcIssuer, body: unknown): Promise<Response> {
  return fetch(issuer.mintUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('startOidcIssuer', () => {
  let issuer: OidcIssuer;
  let verify: TokenVerifier;
  const consoleSpies: MockInstance[] = [];

  beforeAll(async () => {
    // Spied before the first start: oidc-provider prints its notices on import and on first use.
    for (const method of ['log', 'info', 'warn', 'error'] as const)
      consoleSpies.push(vi.spyOn(console, method));
    issuer = await startOidcIssuer({ admins: ['Admin@Example.com'], audience: 'gong-status' });
    verify = createTokenVerifier({ issuer: issuer.url, audience: 'gong-status', jwksUrl: issuer.jwksUrl });
  });
  afterAll(async () => {
    for (const spy of consoleSpies) spy.mockRestore();
    await issuer?.close();
  });

  it('publishes an RS256 key set and discovery on loopback', async () => {
    const discovery = (await (await fetch(`${issuer.url}/.well-known/openid-configuration`)).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(discovery.issuer).toBe(issuer.url);
    expect(discovery.jwks_uri).toBe(issuer.jwksUrl);
    const { keys } = (await (await fetch(issuer.jwksUrl)).json()) as { keys: { kty: string; d?: string }[] };
    expect(keys.map((key) => key.kty)).toEqual(['RSA']);
    expect(keys[0]?.d).toBeUndefined();
  });

  it('returns a member caller for a member who logs in through the form', async () => {
    const token = await browserLogin(issuer, 'Ada@Example.com');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(decodeJwt(token)).toMatchObject({ aud: 'gong-status', email: 'ada@example.com', groups: [] });
    expect(await verify(`Bearer ${token}`)).toEqual({
      kind: 'member',
      email: 'ada@example.com',
      subject: 'ada@example.com',
    });
  });

  it('returns an admin caller, by scope and group, for an address in admins', async () => {
    const token = await browserLogin(issuer, 'admin@example.com');
    const claims = decodeJwt(token);
    expect(String(claims.scope).split(' ')).toContain('gong-status/admin');
    expect(claims.groups).toEqual(['gong-status-admins']);
    expect(await verify(`Bearer ${token}`)).toMatchObject({ kind: 'admin', email: 'admin@example.com' });
  });

  it('returns a member caller when a member asks the page login for the admin scope', async () => {
    const token = await browserLogin(issuer, 'ada@example.com', 'openid email gong-status/admin');
    expect(String(decodeJwt(token).scope).split(' ')).not.toContain('gong-status/admin');
    expect((await verify(`Bearer ${token}`)).kind).toBe('member');
  });

  it('mints a CLI token that verifies like a browser-login token', async () => {
    const response = await mintOverHttp(issuer, { email: 'ada@example.com' });
    expect(response.status).toBe(200);
    const { access_token: token, expires_in } = (await response.json()) as {
      access_token: string;
      expires_in: number;
    };
    expect(expires_in).toBe(3600);
    const browser = decodeJwt(await browserLogin(issuer, 'ada@example.com'));
    const cli = decodeJwt(token);
    expect(Object.keys(cli).sort()).toEqual(Object.keys(browser).sort());
    expect(cli).toMatchObject({ iss: browser.iss, aud: browser.aud, sub: browser.sub, email: browser.email });
    expect((cli.exp ?? 0) - (cli.iat ?? 0)).toBe(3600);
    expect(decodeProtectedHeader(token)).toEqual(
      decodeProtectedHeader(await browserLogin(issuer, 'x@y.com')),
    );
    expect(await verify(`Bearer ${token}`)).toEqual({
      kind: 'member',
      email: 'ada@example.com',
      subject: 'ada@example.com',
    });
  });

  it('mints an admin token when asked for admin', async () => {
    const response = await mintOverHttp(issuer, { email: 'grace@example.com', admin: true });
    const { access_token: token } = (await response.json()) as { access_token: string };
    expect(await verify(`Bearer ${token}`)).toMatchObject({ kind: 'admin', email: 'grace@example.com' });
  });

  it('answers 400 when the mint request has no email', async () => {
    const response = await mintOverHttp(issuer, { admin: true });
    expect(response.status).toBe(400);
    expect(await mintOverHttp(issuer, { email: 'not an email' }).then((r) => r.status)).toBe(400);
  });

  it('prints nothing while starting, logging people in and minting (no oidc-provider notices)', () => {
    const printed = consoleSpies.flatMap((spy) => spy.mock.calls.map((call) => call.map(String).join(' ')));
    expect(printed).toEqual([]);
  });
});

describe('createTokenVerifier', () => {
  let issuer: OidcIssuer;
  let verify: TokenVerifier;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    verify = createTokenVerifier({ issuer: issuer.url, audience: 'gong-status', jwksUrl: issuer.jwksUrl });
  });
  afterAll(async () => {
    await issuer?.close();
  });

  /** A token with the issuer's claims signed by a key the issuer never published. */
  async function forged(): Promise<string> {
    const claims = decodeJwt(await issuer.mint({ email: 'admin@example.com' }));
    const header = decodeProtectedHeader(await issuer.mint({ email: 'admin@example.com' }));
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', ...(header.kid ? { kid: header.kid } : {}) })
      .sign(privateKey);
  }

  async function refusal(authorization: string | undefined): Promise<UnauthorizedError> {
    const error = await verify(authorization).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UnauthorizedError);
    const unauthorized = error as UnauthorizedError;
    expect(unauthorized.statusCode).toBe(401);
    expect(unauthorized.code).toBe('UNAUTHORIZED');
    return unauthorized;
  }

  it('throws UnauthorizedError when there is no token', async () => {
    expect((await refusal(undefined)).message).toMatch(/No bearer token/);
    expect((await refusal('Basic abc')).message).toMatch(/not "Bearer <token>"/);
  });

  it('throws UnauthorizedError when another RSA key signed the same claims', async () => {
    const token = await forged();
    const error = await refusal(`Bearer ${token}`);
    expect(error.message).toMatch(/signature/);
    expect(error.message).not.toContain(token);
  });

  it('throws UnauthorizedError when the token is for another audience', async () => {
    const other = await startOidcIssuer({ audience: 'someone-else' });
    try {
      const sameIssuerOtherAudience = createTokenVerifier({
        issuer: other.url,
        audience: 'gong-status',
        jwksUrl: other.jwksUrl,
      });
      const error = await sameIssuerOtherAudience(
        `Bearer ${await other.mint({ email: 'ada@example.com' })}`,
      ).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(UnauthorizedError);
      expect((error as Error).message).toMatch(/not for this API/);
    } finally {
      await other.close();
    }
  });

  it('throws UnauthorizedError when the token has expired', async () => {
    const token = await issuer.mint({ email: 'ada@example.com', expiresIn: -60 });
    expect((await refusal(`Bearer ${token}`)).message).toMatch(/expired/);
  });

  it('throws UnauthorizedError when the token is from another issuer', async () => {
    const wrongIssuer = createTokenVerifier({
      issuer: 'http://127.0.0.1:1/',
      audience: 'gong-status',
      jwksUrl: issuer.jwksUrl,
    });
    const error = await wrongIssuer(`Bearer ${await issuer.mint({ email: 'ada@example.com' })}`).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect((error as Error).message).toMatch(/another issuer/);
  });

  it('throws UnauthorizedError when the token is not a JWT', async () => {
    expect((await refusal('Bearer not-a-jwt')).message).toMatch(/well-formed/);
  });
});

/** Runs `npm run -s token -- <args>` as tsx does, with LOCAL_DATA_DIR pointing at `dataDir`. */
function runToken(
  args: string[],
  dataDir: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/cli/token.ts', ...args], {
    cwd: resolve(import.meta.dirname, '../..'),
    env: cleanEnv({ LOCAL_DATA_DIR: dataDir }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  return new Promise((done, failed) => {
    child.once('error', failed);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('npm run token', () => {
  let issuer: OidcIssuer;
  let dataDir: string;
  let verify: TokenVerifier;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
    verify = createTokenVerifier({ issuer: issuer.url, audience: 'gong-status', jwksUrl: issuer.jwksUrl });
    dataDir = await mkdtemp(join(tmpdir(), 'gong-status-token-'));
  });
  afterAll(async () => {
    await issuer?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prints only an admin token from the issuer the running npm start names', async () => {
    // This test process stands in for the running npm start: the state file names it and the issuer.
    const state: StackState & { urls: { issuer: string } } = {
      pid: process.pid,
      startedAt: new Date().toISOString(),
      table: 'gong-status-local',
      gong: 'sandbox',
      slack: 'stand-in',
      urls: { http: 'http://127.0.0.1:1', lambda: '', dynamodb: '', gong: '', issuer: issuer.url },
      processes: [{ name: 'npm start', pid: process.pid }],
    };
    await writeState(dataDir, state);
    const run = await runToken(['--email', 'Grace@Example.com', '--admin'], dataDir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await verify(`Bearer ${run.stdout.trim()}`)).toEqual({
      kind: 'admin',
      email: 'grace@example.com',
      subject: 'grace@example.com',
    });
  });

  it('exits 2 with the reason on stderr when no issuer is given or running', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'gong-status-token-'));
    try {
      const run = await runToken(['--email', 'ada@example.com'], empty);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/No npm start is running/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
