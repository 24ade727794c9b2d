import type { Problem } from '#lib/problems/group-by-cause.ts';
import { escapeMrkdwn, isLinkable, slackDate, truncate } from '#lib/slack/block-kit.ts';

const ICON = { INVALID: '⚠️', NOT_IN_GONG: '❓' } as const;
/** Gong's messages are a sentence or two; a longer one would crowd out the other causes. */
const MAX_MESSAGE = 300;

/**
 * The mrkdwn lines that list broken users by cause (README "Slack"): one line per company-wide cause
 * (Gong's message, how many it affects, the admin's Fix link, since when), then a line per user for
 * the causes each user fixes themself. Company causes come first: one fix there helps the most people.
 */
export function problemLines(problems: Problem[], options: { usersPerCause?: number } = {}): string[] {
  const usersPerCause = options.usersPerCause ?? 100;
  const ordered = [
    ...problems.filter((problem) => problem.scope === 'company'),
    ...problems.filter((problem) => problem.scope === 'user'),
  ];
  const lines: string[] = [];
  for (const problem of ordered) {
    const icon = ICON[problem.status];
    const message = escapeMrkdwn(truncate(problem.message, MAX_MESSAGE));
    const fix = isLinkable(problem.fixUrl) ? ` <${problem.fixUrl}|Fix it>` : '';
    if (problem.scope === 'company') {
      const users = `${problem.count} user${problem.count === 1 ? '' : 's'}`;
      lines.push(
        `${icon} *${users}* — ${message}${fix} _(company-wide, a Gong admin fixes it once; since ${slackDate(problem.since)})_`,
      );
      continue;
    }
    const shown = problem.emails.slice(0, usersPerCause);
    for (const email of shown) {
      const why = problem.status === 'NOT_IN_GONG' ? 'not in Gong' : message;
      lines.push(`${icon} *${escapeMrkdwn(email)}* — ${why}${fix}`);
    }
    if (problem.count > shown.length) {
      lines.push(`…and ${problem.count - shown.length} more with this cause.`);
    }
  }
  return lines;
}

/** The plain-text counterpart for a message's fallback: one line per cause. */
export function problemSummary(problems: Problem[]): string[] {
  return problems.map(
    (problem) =>
      `${problem.count} × ${truncate(problem.message, 120)}${problem.scope === 'company' ? ' (company-wide)' : ''}`,
  );
}
