import { type User, UserManager } from 'oidc-client-ts';
import { type Role, roleOfToken } from './claims.ts';
import type { PageConfig } from './config.ts';

/** Who is logged in, and the token the data calls carry. */
export interface Session {
  token: string;
  email: string | undefined;
  name: string | undefined;
  expired: boolean;
  /**
   * What the token's own claims say, by the server's rule (README "Who may call"); undefined when the
   * token is not a readable JWT. Only picks the view: the API decides what the caller may read.
   */
  role: Role | undefined;
}

/** Login through the issuer with authorization code + PKCE, kept in sessionStorage by oidc-client-ts. */
export interface Auth {
  /** Finishes a login when the URL is the issuer's redirect back, then clears the URL. */
  completeLogin(): Promise<void>;
  session(): Promise<Session | undefined>;
  login(): Promise<void>;
  logout(): Promise<void>;
}

/** Builds the login around one UserManager for the page's config. */
export function createAuth(config: PageConfig, location: Location, history: History): Auth {
  const redirectUri = config.redirectUri ?? `${location.origin}${location.pathname}`;
  const manager = new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: redirectUri,
    post_logout_redirect_uri: redirectUri,
    response_type: 'code',
    scope: config.scope ?? 'openid email profile',
    // Silent renew needs an iframe on the issuer (frame-src); an expired session asks to log in again.
    automaticSilentRenew: false,
    loadUserInfo: false,
  });

  function toSession(user: User): Session | undefined {
    const token = config.useIdToken ? user.id_token : user.access_token;
    if (!token) return undefined;
    const email = typeof user.profile.email === 'string' ? user.profile.email.toLowerCase() : undefined;
    const name = typeof user.profile.name === 'string' ? user.profile.name : undefined;
    return { token, email, name, expired: user.expired === true, role: roleOfToken(token) };
  }

  return {
    async completeLogin() {
      const query = new URLSearchParams(location.search);
      if (!query.has('state') || !(query.has('code') || query.has('error'))) return;
      try {
        await manager.signinCallback(location.href);
      } finally {
        // The code is single-use: a reload must not try it again, nor a bookmark keep it.
        history.replaceState(null, '', location.pathname);
      }
    },
    async session() {
      const user = await manager.getUser();
      return user ? toSession(user) : undefined;
    },
    login() {
      return manager.signinRedirect();
    },
    async logout() {
      const user = await manager.getUser();
      await manager.removeUser();
      // Some issuers (Cognito's user pool discovery) name no end_session_endpoint: then the local logout is all.
      const endSession = await manager.metadataService.getEndSessionEndpoint().catch(() => undefined);
      if (endSession && user?.id_token) await manager.signoutRedirect({ id_token_hint: user.id_token });
    },
  };
}
