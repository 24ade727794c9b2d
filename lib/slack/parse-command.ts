import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import { ValidationError } from '#lib/errors/errors.ts';

/** At most this many users per command: one Gong call's worth, and what one reply can show. */
export const MAX_USERS_PER_COMMAND = 100;

/** Someone to check: an email typed out, or a Slack user whose profile email the worker looks up. */
export type Target = { kind: 'email'; email: string } | { kind: 'user'; userId: string };

/** What the text after `/gong-status` asks for. */
export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'self' }
  | { kind: 'check'; targets: Target[]; skipped: string[] }
  | { kind: 'history'; target: Target }
  | { kind: 'team' };

// A Slack-escaped token (`<@U123|name>`, `<mailto:a@x.com|a@x.com>`, `<#C1|general>`) stays one token
// even if its label has spaces; anything else splits on whitespace, commas and semicolons.
const TOKEN = /<[^>]*>|[^\s,;]+/g;
/** A Slack user id: U…, or W… for Enterprise Grid. */
export const USER_ID = /^[UW][A-Z0-9]{2,}$/;

/** Parses the slash command's text; throws ValidationError (its message is shown to the caller) when nothing usable is in it. */
export function parseCommand(text: string): ParsedCommand {
  const tokens = text.match(TOKEN) ?? [];
  const [first, ...rest] = tokens;
  if (first === undefined) return { kind: 'self' };
  const keyword = first.toLowerCase();
  if (keyword === 'help') return { kind: 'help' };
  if (keyword === 'team') {
    if (rest.length > 0) throw new ValidationError('`team` takes no arguments: `/gong-status team`');
    return { kind: 'team' };
  }
  if (keyword === 'history') {
    const { targets, skipped } = readTargets(rest);
    const [target] = targets;
    if (targets.length !== 1 || skipped.length > 0 || target === undefined) {
      throw new ValidationError(
        '`history` takes one email or @mention: `/gong-status history a@example.com`',
        { code: 'HISTORY_TARGET' },
      );
    }
    return { kind: 'history', target };
  }
  const { targets, skipped } = readTargets(tokens);
  if (targets.length === 0) {
    throw new ValidationError(
      `Not an email or @mention: ${formatSkipped(skipped)}. Try \`/gong-status help\`.`,
      {
        code: 'EMAILS_INVALID',
      },
    );
  }
  if (targets.length > MAX_USERS_PER_COMMAND) {
    throw new ValidationError(
      `That is ${targets.length} users; one command checks at most ${MAX_USERS_PER_COMMAND}.`,
      { code: 'EMAILS_TOO_MANY' },
    );
  }
  return { kind: 'check', targets, skipped };
}

/** The skipped tokens as the caller typed them, in code spans, at most 10 named. */
export function formatSkipped(skipped: string[]): string {
  const shown = skipped
    .slice(0, 10)
    .map((token) => `\`${token.length > 60 ? `${token.slice(0, 60)}…` : token}\``);
  return skipped.length > 10 ? `${shown.join(', ')} and ${skipped.length - 10} more` : shown.join(', ');
}

function readTargets(tokens: string[]): { targets: Target[]; skipped: string[] } {
  const targets: Target[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  for (const token of tokens) {
    const target = toTarget(token);
    if (!target) {
      skipped.push(token.replaceAll('`', "'"));
      continue;
    }
    const key = target.kind === 'email' ? target.email : target.userId;
    if (seen.has(key)) continue;
    seen.add(key);
    targets.push(target);
  }
  return { targets, skipped };
}

function toTarget(token: string): Target | undefined {
  if (token.startsWith('<') && token.endsWith('>')) {
    // Slack's escaping: <@U123|name> for a mention, <mailto:a@x.com|a@x.com> for a typed email.
    const [inner = ''] = token.slice(1, -1).split('|', 1);
    if (inner.startsWith('@') && USER_ID.test(inner.slice(1)))
      return { kind: 'user', userId: inner.slice(1) };
    if (inner.toLowerCase().startsWith('mailto:')) return emailTarget(inner.slice('mailto:'.length));
    return undefined;
  }
  return emailTarget(token);
}

function emailTarget(raw: string): Target | undefined {
  const email = normaliseEmail(raw);
  return isEmail(email) ? { kind: 'email', email } : undefined;
}
