import { createHash } from 'node:crypto';
import { parseJson } from './requests.ts';

/** One user as the sandbox answers for it; `email` is matched case-insensitively. */
export interface SandboxUser {
  email: string;
  exists: boolean;
  valid: boolean;
  userFacingError?: string;
  fixUrl?: string;
  helpUrl?: string;
  /** `GET /v2/users` lists every known user that exists; `active: false` lists it as deactivated. */
  active?: boolean;
}

// Wording and URL shapes from Gong's API reference for this endpoint (help.gong.io/apidocs,
// "Validate Gong meeting Integration"); the tenant subdomain is what a real company's links carry.
const TENANT_URL = 'https://us-12345.app.gong.io';
export const CONSENT_PAGE_PROBLEM = {
  userFacingError: 'The Gong consent page is not enabled in your company. Contact your Gong Admin.',
  fixUrl: `${TENANT_URL}/company/recording-consent/consent-page`,
  helpUrl: 'https://help.gong.io/hc/en-us/articles/360056677792',
} as const;
export const CALENDAR_PROBLEM = {
  userFacingError:
    'No calls are imported to Gong because you have not connected Gong to your email & calendar provider.',
  fixUrl: `${TENANT_URL}/settings/personal/calendar`,
  helpUrl: 'https://help.gong.io/docs/troubleshooting-email-and-calendar-import-errors',
} as const;

/** The small example set the sandbox knows by name, beside the rules for any other address. */
export const EXAMPLE_USERS: SandboxUser[] = [
  { email: 'ada@example.com', exists: true, valid: true },
  { email: 'margaret@example.com', exists: true, valid: true },
  { email: 'grace@example.com', exists: true, valid: false, ...CONSENT_PAGE_PROBLEM },
  { email: 'linus@example.com', exists: true, valid: false, ...CALENDAR_PROBLEM },
  { email: 'nobody@example.com', exists: false, valid: false },
];

export function userByRule(email: string): Omit<SandboxUser, 'email'> {
  const at = email.lastIndexOf('@');
  const local = at < 0 ? email : email.slice(0, at);
  const domain = at < 0 ? '' : email.slice(at + 1);
  if (local.startsWith('broken')) return { exists: true, valid: false, ...CONSENT_PAGE_PROBLEM };
  if (local.startsWith('unknown')) return { exists: false, valid: false };
  if (domain === 'example.com') return { exists: true, valid: true };
  return { exists: false, valid: false };
}

// Field names and shapes from Gong's "List all users" (GET /v2/users) reference; the values are made up.
export function directoryEntry(user: SandboxUser) {
  const local = user.email.slice(0, Math.max(0, user.email.indexOf('@')));
  const [first = local, last = ''] = local.split(/[._-]/);
  const title = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
  const digest = createHash('sha256').update(user.email.toLowerCase()).digest();
  return {
    id: String(digest.readBigUInt64BE() % 10n ** 15n).padStart(15, '1'),
    emailAddress: user.email,
    created: '2024-01-15T09:00:00Z',
    active: user.active ?? true,
    emailAliases: [],
    firstName: title(first),
    lastName: title(last),
  };
}

export function encodeOffset(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

export function decodeOffset(cursor: string): number | undefined {
  const value = parseJson(Buffer.from(cursor, 'base64url').toString('utf8'));
  const offset = (value as { offset?: unknown } | undefined)?.offset;
  return typeof offset === 'number' && Number.isInteger(offset) && offset >= 0 ? offset : undefined;
}
