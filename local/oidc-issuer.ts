import { generateKeyPairSync, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { ADMIN_GROUP, ADMIN_SCOPE } from '#lib/auth/verify-token.ts';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import { listen, readBody, runAsScript } from '#local/http-server.ts';

/** The audience (resource indicator) tokens are issued for unless told otherwise. */
export const DEFAULT_AUDIENCE = 'gong-status';
/** The team-health page's client: public, authorization code + PKCE. */
export const PAGE_CLIENT_ID = 'gong-status-page';
/** The `client_id` claim of tokens minted for the CLI. */
export const CLI_CLIENT_ID = 'gong-status-cli';
/** Where the CLI mints a token without a browser; loopback callers only. */
export const MINT_PATH = '/local/token';
export const DEFAULT_ADMINS = ['admin@example.com'];
export const DEFAULT_REDIRECT_URIS = ['http://localhost:3000/', 'http://127.0.0.1:3000/'];
const TOKEN_TTL_SECONDS = 3600;

/** How to start the issuer; every field has a default. */
export interface OidcIssuerOptions {
  host?: string;
  /** Default any free port; `npm start` passes ISSUER_PORT (3020). */
  port?: number;
  /** Emails (any case) that log in as admins (LOCAL_ADMINS). */
  admins?: string[];
  audience?: string;
  /** Redirect URIs of the page client (where the browser returns after login). */
  redirectUris?: string[];
  /** Origins allowed to call the token endpoint from a browser; default the redirect URIs' origins. */
  allowedOrigins?: string[];
}

/** The claims a token is issued with for one person. */
export interface MintRequest {
  email: string;
  /** Admin regardless of the admins list (the CLI's `--admin`). */
  admin?: boolean;
  /** Seconds until expiry; default one hour. */
  expiresIn?: number;
}

/** A running issuer. */
export interface OidcIssuer {
  /** The issuer identifier (`iss`), `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  jwksUrl: string;
  /** `POST` `{email, admin?}` here for `{access_token, token_type, expires_in}`. */
  mintUrl: string;
  port: number;
  /** The `aud` of every access token. */
  audience: string;
  /** The resource indicator for the audience (`urn:<audience>` unless it is a URI); the default, so optional. */
  resource: string;
  pageClientId: string;
  redirectUris: string[];
  admins: string[];
  /** Signs a token as the mint endpoint does, without HTTP. */
  mint(request: MintRequest): Promise<string>;
  close(): Promise<void>;
}

/** Thrown for a mint request the issuer refuses; `statusCode` is what the endpoint answers. */
export class MintRefusedError extends Error {
  override name = 'MintRefusedError';
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.statusCode = statusCode;
  }
}

// Only the parts of oidc-provider used here; the package ships no types.
interface OidcContext {
  oidc: { client?: { clientId: string }; route?: string };
}
interface AccessTokenLike {
  kind: string;
  accountId?: string;
}
interface StructuredToken {
  payload: Record<string, unknown>;
}
interface InteractionDetails {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}
interface GrantInstance {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
}
interface ProviderInstance {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  Grant: {
    new (init: { accountId: string; clientId: string }): GrantInstance;
    find(id: string): Promise<GrantInstance | undefined>;
  };
}
interface OidcProviderModule {
  Provider: new (issuer: string, configuration: Record<string, unknown>) => ProviderInstance;
  errors: { InvalidTarget: new (description: string) => Error };
}

let providerModule: Promise<OidcProviderModule> | undefined;

/**
 * oidc-provider warns on import under Node 20 (it asks for 22) though 9.13.3 runs there (the
 * Lambda runtime is 22); that one line would greet every `npm start`, so it alone is dropped.
 */
function loadProvider(): Promise<OidcProviderModule> {
  providerModule ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (String(args[0]).includes('Unsupported runtime')) return;
      warn(...args);
    };
    try {
      // @ts-expect-error -- the package ships no types; OidcProviderModule names what is used.
      return (await import('oidc-provider')) as OidcProviderModule;
    } finally {
      console.warn = warn;
    }
  })();
  return providerModule;
}

/**
 * oidc-provider's own in-memory store warns that it is for development; this one is the same
 * (state is lost on restart, which a local issuer wants) and says nothing.
 */
function memoryAdapter() {
  const store = new Map<string, { payload: Record<string, unknown>; expiresAt: number }>();
  const live = (key: string) => {
    const entry = store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(key);
      return undefined;
    }
    return entry.payload;
  };
  return class MemoryAdapter {
    readonly #name: string;
    constructor(name: string) {
      this.#name = name;
    }
    #key(id: string) {
      return `${this.#name}:${id}`;
    }
    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
      store.set(this.#key(id), { payload, expiresAt });
      if (typeof payload.uid === 'string')
        store.set(`uid:${this.#name}:${payload.uid}`, { payload, expiresAt });
      if (typeof payload.userCode === 'string')
        store.set(`userCode:${this.#name}:${payload.userCode}`, { payload, expiresAt });
    }
    async find(id: string) {
      return live(this.#key(id));
    }
    async findByUid(uid: string) {
      return live(`uid:${this.#name}:${uid}`);
    }
    async findByUserCode(userCode: string) {
      return live(`userCode:${this.#name}:${userCode}`);
    }
    async consume(id: string) {
      const payload = live(this.#key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      store.delete(this.#key(id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, entry] of store) if (entry.payload.grantId === grantId) store.delete(key);
    }
  };
}

function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

function loginPage(uid: string, options: { error?: string; email?: string } = {}): string {
  const error = options.error ? `<p role="alert">${escapeHtml(options.error)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sign in - gong-status (local)</title><link rel="icon" href="data:,"></head>
<body>
<main>
<h1>Sign in to gong-status</h1>
<p>Local issuer: any password is accepted; the email decides who you are.</p>
${error}
<form method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
<label for="login">Email</label>
<input id="login" type="email" name="login" required autofocus value="${escapeHtml(options.email ?? '')}">
<label for="password">Password</label>
<input id="password" type="password" name="password">
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', JSON.stringify(body));
}

function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/** Starts a real OpenID Connect issuer on loopback: RS256 JWT access tokens, a login form, a mint endpoint. */
export async function startOidcIssuer(options: OidcIssuerOptions = {}): Promise<OidcIssuer> {
  const { Provider, errors } = await loadProvider();
  const audience = options.audience ?? DEFAULT_AUDIENCE;
  const admins = (options.admins ?? DEFAULT_ADMINS).map(normaliseEmail).filter(Boolean);
  const adminSet = new Set(admins);
  const redirectUris = options.redirectUris ?? DEFAULT_REDIRECT_URIS;
  // oidc-provider wants resource indicators to be absolute URIs; `aud` may still be a plain name.
  const resourceIndicator = URL.canParse(audience) ? audience : `urn:${audience}`;
  const allowedOrigins = new Set(options.allowedOrigins ?? redirectUris.map((uri) => new URL(uri).origin));

  // Generated at each start and kept in memory: a restart invalidates earlier tokens, as a
  // rotated key would; nothing secret is written to disk. API Gateway verifies only RSA (RS256).
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const signingJwk = { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };

  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) =>
    send(res, 503, 'text/plain', 'starting');
  const server = createServer((req, res) => handler(req, res));
  const listening = await listen(server, { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const url = listening.url;
  const port = Number(new URL(url).port);

  const isAdmin = (email: string) => adminSet.has(email);
  const adminClaims = (admin: boolean) => ({ groups: admin ? [ADMIN_GROUP] : [] });
  // The scope decides admin, not what the browser asked for: a member asking for the admin scope
  // gets a grant for it (consent is automatic) but never a token carrying it.
  const scopeFor = (scope: unknown, admin: boolean): string => {
    const scopes = new Set(typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []);
    if (admin) scopes.add(ADMIN_SCOPE);
    else scopes.delete(ADMIN_SCOPE);
    return [...scopes].join(' ');
  };

  const provider = new Provider(url, {
    adapter: memoryAdapter(),
    jwks: { keys: [signingJwk] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [
      {
        client_id: PAGE_CLIENT_ID,
        application_type: 'web',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: redirectUris,
        post_logout_redirect_uris: redirectUris,
      },
    ],
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    scopes: ['openid', 'email', 'profile', ADMIN_SCOPE],
    clientDefaults: { id_token_signed_response_alg: 'RS256' },
    enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
    // Every lifetime given, so oidc-provider has no default to announce.
    ttl: {
      AccessToken: TOKEN_TTL_SECONDS,
      IdToken: TOKEN_TTL_SECONDS,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
    },
    async findAccount(_ctx: OidcContext, id: string) {
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: id, email_verified: true, name: id };
        },
      };
    },
    // The page (another origin) calls the token endpoint from the browser.
    clientBasedCORS(_ctx: OidcContext, origin: string) {
      return allowedOrigins.has(origin);
    },
    interactions: {
      url: (_ctx: OidcContext, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => resourceIndicator,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: OidcContext, resource: string) => {
          if (resource !== resourceIndicator)
            throw new errors.InvalidTarget(`this issuer serves ${resourceIndicator} only`);
          return {
            audience,
            scope: ADMIN_SCOPE,
            accessTokenTTL: TOKEN_TTL_SECONDS,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    async extraTokenClaims(_ctx: OidcContext, token: AccessTokenLike) {
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      return { email: token.accountId, ...adminClaims(isAdmin(token.accountId)) };
    },
    formats: {
      customizers: {
        async jwt(_ctx: OidcContext, token: AccessTokenLike, jwt: StructuredToken) {
          if (token.accountId) jwt.payload.scope = scopeFor(jwt.payload.scope, isAdmin(token.accountId));
        },
      },
    },
    async renderError(ctx: { type: string; body: string }, out: Record<string, string>) {
      ctx.type = 'html';
      ctx.body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title></head><body><main><h1>Sign-in error</h1><p>${escapeHtml(out.error ?? 'error')}: ${escapeHtml(out.error_description ?? '')}</p></main></body></html>`;
    },
  });
  const providerCallback = provider.callback();

  async function mint(request: MintRequest): Promise<string> {
    const email = normaliseEmail(request.email);
    if (!isEmail(email)) throw new MintRefusedError(400, '"email" must be an email address');
    const expiresIn = request.expiresIn ?? TOKEN_TTL_SECONDS;
    const admin = request.admin === true || isAdmin(email);
    // The same claims, key, header and lifetime as a token from the browser login.
    return new SignJWT({
      email,
      scope: scopeFor('openid email', admin),
      client_id: CLI_CLIENT_ID,
      ...adminClaims(admin),
    })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'at+jwt' })
      .setIssuer(url)
      .setAudience(audience)
      .setSubject(email)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn)
      .sign(privateKey as KeyObject);
  }

  async function handleMint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      sendJson(res, 403, { error: 'forbidden', error_description: 'loopback callers only' });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'body must be JSON {"email", "admin"?}',
      });
      return;
    }
    const { email, admin } = (body ?? {}) as { email?: unknown; admin?: unknown };
    if (typeof email !== 'string' || (admin !== undefined && typeof admin !== 'boolean')) {
      sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'body must be {"email": string, "admin"?: boolean}',
      });
      return;
    }
    try {
      const token = await mint({ email, admin: admin === true });
      sendJson(res, 200, { access_token: token, token_type: 'Bearer', expires_in: TOKEN_TTL_SECONDS });
    } catch (error: unknown) {
      if (!(error instanceof MintRefusedError)) throw error;
      sendJson(res, error.statusCode, { error: 'invalid_request', error_description: error.message });
    }
  }

  async function finishConsent(req: IncomingMessage, res: ServerResponse, details: InteractionDetails) {
    // Consent is automatic: the only client is our own page.
    const accountId = details.session?.accountId;
    const clientId = String(details.params.client_id);
    if (!accountId) throw new Error('consent without a session');
    const grant =
      (details.grantId ? await provider.Grant.find(details.grantId) : undefined) ??
      new provider.Grant({ accountId, clientId });
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {}))
      grant.addResourceScope(resource, scopes.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  async function handleInteraction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    let details: InteractionDetails;
    try {
      details = await provider.interactionDetails(req, res);
    } catch {
      send(res, 400, 'text/plain', 'This sign-in has expired or is unknown: start again from the page.');
      return;
    }
    const { uid, prompt } = details;
    if (req.method === 'GET' && path === `/interaction/${uid}`) {
      if (prompt.name === 'login') send(res, 200, 'text/html; charset=utf-8', loginPage(uid));
      else if (prompt.name === 'consent') await finishConsent(req, res, details);
      else send(res, 400, 'text/plain', `Unsupported sign-in step ${prompt.name}`);
      return;
    }
    if (req.method === 'POST' && path === `/interaction/${uid}/login` && prompt.name === 'login') {
      const form = new URLSearchParams(await readBody(req));
      const email = normaliseEmail(form.get('login') ?? form.get('email') ?? '');
      if (!isEmail(email)) {
        send(
          res,
          400,
          'text/html; charset=utf-8',
          loginPage(uid, { error: 'Enter an email address.', email: form.get('login') ?? '' }),
        );
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: email } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    send(res, 404, 'text/plain', 'Not found');
  }

  handler = (req, res) => {
    const path = new URL(req.url ?? '/', url).pathname;
    let work: Promise<void> | undefined;
    if (path === MINT_PATH && req.method === 'POST') work = handleMint(req, res);
    else if (path.startsWith('/interaction/')) work = handleInteraction(req, res, path);
    else providerCallback(req, res);
    work?.catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain', 'The local issuer failed on this request.');
      else res.end();
    });
  };

  return {
    url,
    jwksUrl: `${url}/jwks`,
    mintUrl: `${url}${MINT_PATH}`,
    port,
    audience,
    resource: resourceIndicator,
    pageClientId: PAGE_CLIENT_ID,
    redirectUris,
    admins,
    mint,
    close: () => listening.close(),
  };
}

/** LOCAL_ADMINS as a list: comma or space separated, default admin@example.com. */
export function parseAdmins(raw: string | undefined): string[] {
  const admins = (raw ?? '')
    .split(/[\s,]+/)
    .map(normaliseEmail)
    .filter(Boolean);
  return admins.length > 0 ? admins : DEFAULT_ADMINS;
}

async function main(): Promise<{ close(): Promise<void> }> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      audience: { type: 'string' },
      admins: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
    },
  });
  const port = Number(values.port ?? process.env.ISSUER_PORT ?? 3020);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--port must be a port number (got ${values.port})`);
  const issuer = await startOidcIssuer({
    port,
    admins: parseAdmins(values.admins ?? process.env.LOCAL_ADMINS),
    ...(values.host ? { host: values.host } : {}),
    ...(values.audience ? { audience: values.audience } : {}),
    ...(values['redirect-uri'] ? { redirectUris: values['redirect-uri'] } : {}),
  });
  console.log(`OpenID Connect issuer listening on ${issuer.url}`);
  console.log(`  discovery ${issuer.url}/.well-known/openid-configuration`);
  console.log(
    `  audience ${issuer.audience}; page client ${issuer.pageClientId} -> ${issuer.redirectUris.join(', ')}`,
  );
  console.log(`  admins: ${issuer.admins.join(', ')} (any password)`);
  console.log(`  CLI token: curl -s -X POST ${issuer.mintUrl} -d '{"email":"ada@example.com"}'`);
  return issuer;
}

runAsScript(import.meta.url, main);
