/**
 * What the server tells the team-health page, as JSON in `<script id="config" type="application/json">`
 * (README "The team-health page"). The page and the server share this one definition.
 */
export interface PageConfig {
  /** The OpenID Connect issuer; the page reads its `/.well-known/openid-configuration` at login. */
  authority: string;
  /** The issuer's client id for the page (a public client: no secret, PKCE). */
  clientId: string;
  /** Where the data routes live; absent or "" means the page's own origin. */
  apiBase?: string;
  /** Send the id token instead of the access token (Cognito access tokens carry no email). */
  useIdToken?: boolean;
  /** Defaults to "openid email profile". */
  scope?: string;
  /** Defaults to the page's own URL without query or fragment; must be registered at the issuer. */
  redirectUri?: string;
}
