import type { UserStatus } from '#lib/check/report.ts';

/** A broken user as the grouping needs it: a latest stored result. */
export interface BrokenUser {
  email: string;
  status: UserStatus;
  userFacingError?: string;
  fixUrl?: string;
  /** When the user entered this status. */
  since: string;
}

/**
 * One cause of broken recordings. `company`: one fix by a Gong admin repairs every user it lists
 * (show one line, its count and the admin's fix link). `user`: each user fixes their own (show them).
 */
export interface Problem {
  key: string;
  scope: 'company' | 'user';
  /** The status its users are in (one cause never mixes INVALID and NOT_IN_GONG). */
  status: Exclude<UserStatus, 'OK'>;
  message: string;
  fixUrl?: string;
  count: number;
  /** The first `maxEmails` users, longest broken first. */
  emails: string[];
  /** The earliest `since` among its users. */
  since: string;
}

/** Users unknown to Gong share one cause: an admin adds them in Gong (or the address is wrong). */
export const NOT_IN_GONG_MESSAGE =
  'Not a Gong user: add them in Gong (Company settings › Users), or check the email address.';
const NO_MESSAGE = 'Gong cannot record this user and gave no reason.';

// Gong's per-user messages speak of "you"/"your email & calendar"; the company-wide ones name the
// company or its admin ("The Gong consent page is not enabled in your company. Contact your Gong Admin.").
const COMPANY_WORDING = /\b(company|organi[sz]ation|workspace|admin|administrator)\b/i;
// Personal settings pages have one URL for everyone, yet each user must open their own.
const PERSONAL_URL = /\/personal\b/i;
/** A fix URL shared by this many users, outside personal settings, is an admin's page. */
export const SHARED_FIX_URL_USERS = 5;

/** Whether one admin fix repairs every user broken with this message and fix URL. */
export function isCompanyCause(message: string, fixUrl: string | undefined, users: number): boolean {
  if (COMPANY_WORDING.test(message)) return true;
  return fixUrl !== undefined && !PERSONAL_URL.test(fixUrl) && users >= SHARED_FIX_URL_USERS;
}

/**
 * Groups broken users by cause (Gong's message and fix link; every NOT_IN_GONG user under one),
 * biggest first, then the longest-standing. Used by every door that lists broken users, so the
 * Slack team answer, the digest, App Home and the web page tell the same story.
 */
export function groupByCause(users: Iterable<BrokenUser>, options: { maxEmails?: number } = {}): Problem[] {
  const maxEmails = options.maxEmails ?? 100;
  const groups = new Map<
    string,
    { status: Exclude<UserStatus, 'OK'>; message: string; fixUrl?: string; users: BrokenUser[] }
  >();
  for (const user of users) {
    if (user.status === 'OK') continue;
    const message =
      user.status === 'NOT_IN_GONG' ? NOT_IN_GONG_MESSAGE : user.userFacingError?.trim() || NO_MESSAGE;
    const fixUrl = user.status === 'NOT_IN_GONG' ? undefined : user.fixUrl;
    const id = `${user.status}\n${message}\n${fixUrl ?? ''}`;
    let group = groups.get(id);
    if (!group) {
      group = { status: user.status, message, ...(fixUrl ? { fixUrl } : {}), users: [] };
      groups.set(id, group);
    }
    group.users.push(user);
  }
  const problems: Problem[] = [];
  for (const [id, group] of groups) {
    const sorted = group.users.sort(
      (a, b) => a.since.localeCompare(b.since) || a.email.localeCompare(b.email),
    );
    const company =
      group.status !== 'NOT_IN_GONG' && isCompanyCause(group.message, group.fixUrl, sorted.length);
    problems.push({
      key: `${group.status}:${hash(id)}`,
      scope: company ? 'company' : 'user',
      status: group.status,
      message: group.message,
      ...(group.fixUrl ? { fixUrl: group.fixUrl } : {}),
      count: sorted.length,
      emails: sorted.slice(0, maxEmails).map((user) => user.email),
      since: sorted[0]?.since ?? '',
    });
  }
  return problems.sort((a, b) => b.count - a.count || a.since.localeCompare(b.since));
}

// FNV-1a, 32 bits: a short stable key for a cause, the same in every process (no crypto needed).
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}
