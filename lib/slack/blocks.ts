import { assertNever, decidingCode } from '#lib/check/failures.ts';
import type { CheckFailure, CheckReport, UserResult, UserStatus } from '#lib/check/report.ts';
import type { StoredResult } from '#lib/history/history-store.ts';
import {
  actionButton,
  actions,
  type Block,
  type BlockMessage,
  type Button,
  context,
  escapeMrkdwn,
  fallbackText,
  isLinkable,
  linkButton,
  MAX_BLOCKS,
  MAX_SECTION_TEXT,
  packLines,
  section,
  slackDate,
  truncate,
} from '#lib/slack/block-kit.ts';
import { problemLines, problemSummary } from '#lib/slack/problem-lines.ts';
import type { TeamSummary } from '#lib/slack/team-summary.ts';

// The worker and the hand-off take their message type from here, beside the builders.
export type { BlockMessage } from '#lib/slack/block-kit.ts';

/** Link buttons still send a block_actions payload; the slack function acks these action ids. */
export const LINK_ACTION_PREFIXES = ['fix-it', 'learn-more'] as const;
/** A Re-check button's action id starts with this; its value is the email to check again. */
export const RECHECK_ACTION_PREFIX = 'recheck';

const ICON: Record<UserStatus, string> = { OK: '✅', INVALID: '⚠️', NOT_IN_GONG: '❓' };
const FAILED_ICON = '❌';
// Actionable users first: when 50 blocks cannot hold everyone, the ones left out are the fine ones.
const ORDER: Record<UserStatus, number> = { INVALID: 0, NOT_IN_GONG: 1, OK: 3 };
const FAILED_ORDER = 2;

/**
 * The worker's answer to a check: a summary line, then one section per user with a Re-check button
 * beside it (and Fix it / Learn more where Gong gave links). With `stamped`, when it was checked
 * (a re-check replaces the message, so the reader sees it is fresh).
 */
export function buildCheckMessage(
  report: CheckReport,
  options: { notes?: string[]; stamped?: boolean } = {},
): BlockMessage {
  const notes = options.notes ?? [];
  const { summary } = report;
  if (report.results.length === 0 && report.failures.length > 0) {
    return buildGongFailedMessage(report.failures, report.requestId, notes);
  }
  const head = summaryLine(summary);
  const blocks: Block[] = [section(`*Gong recording status* — ${head}`)];
  if (options.stamped) blocks.push(context(`Checked ${slackDate(report.checkedAt, { time: true })}`));
  if (notes.length > 0) blocks.push(notesBlock(notes));

  type Entry = { order: number; blocks: Block[]; line: string };
  const entries: Entry[] = [
    ...report.results.map((result, index) => userEntry(result, index)),
    ...report.failures.map((failure, index) => failureEntry(failure, index)),
  ];
  entries.sort((a, b) => a.order - b.order);

  // Room stays for the "and N more" line and, when some were not checked, the request id.
  let room = MAX_BLOCKS - blocks.length - 1 - (report.failures.length > 0 ? 1 : 0);
  const shown: Entry[] = [];
  for (const entry of entries) {
    if (entry.blocks.length > room) break;
    shown.push(entry);
    room -= entry.blocks.length;
  }
  for (const entry of shown) blocks.push(...entry.blocks);
  const hidden = entries.slice(shown.length);
  if (hidden.length > 0) {
    blocks.push(
      context(
        `…and ${hidden.length} more not shown here. The full report is in the history: \`/gong-status history <email>\`.`,
      ),
    );
  }
  const text = fallbackText([`Gong recording status: ${head}`, ...entries.map((entry) => entry.line)]);
  if (report.failures.length > 0) blocks.push(context(`Request id \`${escapeMrkdwn(report.requestId)}\``));
  return { blocks, text };
}

/** "6 h 57 min", "12 min", "1 min": a wait of seconds as a person reads it, rounded up to the minute. */
function hoursAndMinutes(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

/** Gong answered for nobody: say so plainly, with our request id to quote. */
function buildGongFailedMessage(failures: CheckFailure[], requestId: string, notes: string[]): BlockMessage {
  const codes = new Set(failures.map((f) => f.code));
  const retryAfter = Math.max(0, ...failures.map((f) => f.retryAfterSeconds ?? 0));
  const code = decidingCode(failures) ?? 'GONG_UNAVAILABLE';
  let reason: string;
  switch (code) {
    case 'GONG_RATE_LIMITED':
      reason = `Gong is rate limiting us right now${retryAfter > 0 ? `; try again in ${retryAfter} s` : '; try again in a minute'}.`;
      break;
    case 'GONG_BUDGET_SPENT':
      // The seconds until 00:00 UTC can be most of a day: said in hours and minutes.
      reason = `Today's Gong call budget is spent (GONG_BUDGET_SPENT); it renews at 00:00 UTC${retryAfter > 0 ? `, in ${hoursAndMinutes(retryAfter)}` : ''}.`;
      break;
    case 'GONG_UNAVAILABLE':
    case 'GONG_CREDENTIALS':
    case 'GONG_AUTH':
    case 'GONG_FORBIDDEN':
    case 'GONG_BAD_REQUEST':
    case 'GONG_UNEXPECTED_STATUS':
    case 'GONG_BAD_RESPONSE':
    case 'GONG_INCOMPLETE_ANSWER':
      reason = `Gong did not answer (${[...codes].join(', ')}); nothing was checked. Try again in a few minutes.`;
      break;
    default:
      return assertNever(code);
  }
  const text = `${FAILED_ICON} Could not check ${failures.length === 1 ? failures[0]?.email : `${failures.length} users`}: ${reason} Request id ${requestId}.`;
  const blocks: Block[] = [section(escapeMrkdwn(text))];
  if (notes.length > 0) blocks.push(notesBlock(notes));
  return { blocks, text };
}

/**
 * The notes about mentions that could not be checked, as one context block: as many whole notes as
 * fit Slack's 3000 characters, then how many more (twenty bots' notes alone pass the limit).
 */
function notesBlock(notes: string[]): Block {
  return context(joinWithin(notes, MAX_SECTION_TEXT, (more) => `…and ${more} more notes like these.`));
}

/** The lines joined by newlines, as many whole ones as fit `max` with the "more" line. */
function joinWithin(lines: string[], max: number, more: (hidden: number) => string): string {
  let text = '';
  for (const [index, line] of lines.entries()) {
    const next = text === '' ? line : `${text}\n${line}`;
    const rest = lines.length - index - 1;
    const tail = rest > 0 ? `\n${more(rest)}`.length : 0;
    if (next.length + tail > max) {
      return text === '' ? truncate(line, max) : `${text}\n${more(lines.length - index)}`;
    }
    text = next;
  }
  return text;
}

/** A failure before or around the check (our side): honest, with the request id, never internals. */
export function buildErrorMessage(requestId: string, what = 'check'): BlockMessage {
  const text = `${FAILED_ICON} Sorry, the ${what} failed on our side. Please try again; if it keeps failing, give your admin the request id ${requestId}.`;
  return { blocks: [section(escapeMrkdwn(text))], text };
}

/** A short note only (e.g. nobody left to check). */
export function buildNoteMessage(lines: string[]): BlockMessage {
  const text = joinWithin(lines, MAX_SECTION_TEXT, (more) => `…and ${more} more notes like these.`);
  return { blocks: [section(text)], text: fallbackText(lines) };
}

/** `/gong-status history <email>`: the stored results, newest first. */
export function buildHistoryMessage(email: string, items: StoredResult[]): BlockMessage {
  const who = escapeMrkdwn(email);
  if (items.length === 0) {
    const text = `No stored checks for ${who} yet. Run \`/gong-status ${who}\` to check them now.`;
    return { blocks: [section(text)], text };
  }
  const lines = items.map((item) => {
    const error =
      item.status === 'OK'
        ? ''
        : ` — ${escapeMrkdwn(truncate(item.userFacingError ?? describeStatus(item.status), 200))}`;
    return `• ${slackDate(item.checkedAt, { time: true })} ${ICON[item.status]} ${describeStatus(item.status)}${error} _(via ${escapeMrkdwn(item.source)})_`;
  });
  const head = `*History of ${who}* — last ${items.length} check${items.length === 1 ? '' : 's'}, newest first`;
  const blocks: Block[] = [section(head), section(lines.join('\n'))];
  const latest = items[0];
  const buttons = latest && latest.status !== 'OK' ? linkButtons(latest, 0) : [];
  if (buttons.length > 0) blocks.push(actions(buttons));
  const text = fallbackText([
    `History of ${email}: ${items.length} check${items.length === 1 ? '' : 's'}, latest ${describeStatus(latest?.status ?? 'OK')}`,
  ]);
  return { blocks, text };
}

/** `/gong-status team`: counts per status, the broken grouped by cause, and who is broken the longest. */
export function buildTeamMessage(team: TeamSummary, options: { teamPageUrl?: string } = {}): BlockMessage {
  const blocks = teamBlocks(team, { ...options, maxBlocks: MAX_BLOCKS });
  const { counts } = team;
  const text = fallbackText([
    `Team status: ${counts.OK} can be recorded, ${counts.INVALID} need fixing, ${counts.NOT_IN_GONG} not in Gong`,
    ...problemSummary(team.problems),
  ]);
  return { blocks, text };
}

/** The team's blocks (the team answer, and App Home's admin part), within `maxBlocks`. */
export function teamBlocks(team: TeamSummary, options: { teamPageUrl?: string; maxBlocks: number }): Block[] {
  const { counts } = team;
  const total = counts.OK + counts.INVALID + counts.NOT_IN_GONG;
  const head = `*Team status* — ${total} user${total === 1 ? '' : 's'} checked so far: ${ICON.OK} ${counts.OK} can be recorded · ${ICON.INVALID} ${counts.INVALID} need fixing · ${ICON.NOT_IN_GONG} ${counts.NOT_IN_GONG} not in Gong`;
  const blocks: Block[] = [section(head)];
  const page = isLinkable(options.teamPageUrl)
    ? context(`The whole team, its history and trend: <${options.teamPageUrl}|team-health page>`)
    : undefined;
  const [longest] = team.broken;
  const longestLine = longest
    ? context(
        `Broken the longest: *${escapeMrkdwn(longest.email)}*, since ${slackDate(longest.since, { time: true })}${
          team.broken.length > 1
            ? `; then ${team.broken
                .slice(1, 4)
                .map((user) => `${escapeMrkdwn(user.email)} (since ${slackDate(user.since)})`)
                .join(', ')}`
            : ''
        }.`,
      )
    : undefined;
  if (team.problems.length === 0) {
    blocks.push(
      section(total === 0 ? 'Nobody has been checked yet.' : 'Everyone checked can be recorded. 🎉'),
    );
  } else {
    const room = options.maxBlocks - blocks.length - (page ? 1 : 0) - (longestLine ? 1 : 0);
    blocks.push(
      ...packLines(problemLines(team.problems), {
        maxBlocks: room,
        more: (hidden) => `…and ${hidden} more lines not shown here.`,
      }),
    );
    if (longestLine) blocks.push(longestLine);
  }
  if (page) blocks.push(page);
  return blocks;
}

/** `/gong-status help`: usage, answered in the ack without calling Gong. */
export function buildHelpMessage(command = '/gong-status'): BlockMessage {
  const lines = [
    `*${command}* — can Gong record your meetings?`,
    `• \`${command}\` — check yourself (the email in your Slack profile)`,
    `• \`${command} a@example.com @someone\` — check up to 100 people by email or @mention`,
    `• \`${command} history a@example.com\` — their last 10 results`,
    `• \`${command} team\` — how everyone checked so far stands, and who is broken`,
    `• \`${command} help\` — this message`,
    'Answers are only visible to you.',
  ];
  return { blocks: [section(lines.join('\n'))], text: lines.join('\n').replaceAll('*', '') };
}

function userEntry(result: UserResult, index: number): { order: number; blocks: Block[]; line: string } {
  const email = escapeMrkdwn(result.email);
  let detail: string;
  if (result.status === 'OK') detail = 'Gong can record their meetings.';
  else if (result.status === 'INVALID')
    detail = escapeMrkdwn(result.userFacingError ?? 'Gong cannot record their meetings.');
  else
    detail = result.userFacingError ? escapeMrkdwn(result.userFacingError) : 'No Gong user has this email.';
  const change =
    result.changed === true
      ? result.status === 'OK'
        ? ' _(fixed since the last check)_'
        : ' _(changed since the last check)_'
      : '';
  const blocks: Block[] = [
    section(`${ICON[result.status]} *${email}* — ${detail}${change}`, {
      accessory: recheckButton(result.email, `${RECHECK_ACTION_PREFIX}:${index}`),
    }),
  ];
  const buttons = linkButtons(result, index);
  if (buttons.length > 0) blocks.push(actions(buttons));
  const line = `${ICON[result.status]} ${result.email}: ${result.status === 'OK' ? 'OK' : (result.userFacingError ?? describeStatus(result.status))}`;
  return { order: ORDER[result.status], blocks, line };
}

function failureEntry(
  failure: CheckFailure,
  index: number,
): { order: number; blocks: Block[]; line: string } {
  const text = `${FAILED_ICON} *${escapeMrkdwn(failure.email)}* — could not check: ${escapeMrkdwn(failure.message)}`;
  return {
    order: FAILED_ORDER,
    blocks: [
      section(text, { accessory: recheckButton(failure.email, `${RECHECK_ACTION_PREFIX}:f${index}`) }),
    ],
    line: `${FAILED_ICON} ${failure.email}: not checked (${failure.code})`,
  };
}

/** The Re-check button: its value is the email, so the click alone says whom to check again. */
export function recheckButton(email: string, actionId: string): Button {
  return actionButton({ text: 'Re-check', actionId, value: email });
}

export function linkButtons(user: { fixUrl?: string; helpUrl?: string }, index: number | string): Button[] {
  const buttons: Button[] = [];
  if (isLinkable(user.fixUrl)) {
    buttons.push(
      linkButton({ text: 'Fix it', url: user.fixUrl, actionId: `fix-it:${index}`, primary: true }),
    );
  }
  if (isLinkable(user.helpUrl)) {
    buttons.push(linkButton({ text: 'Learn more', url: user.helpUrl, actionId: `learn-more:${index}` }));
  }
  return buttons;
}

function summaryLine(summary: CheckReport['summary']): string {
  const parts = [
    summary.valid > 0 ? `${ICON.OK} ${summary.valid} can be recorded` : '',
    summary.invalid > 0
      ? `${ICON.INVALID} ${summary.invalid} need${summary.invalid === 1 ? 's' : ''} fixing`
      : '',
    summary.notFound > 0 ? `${ICON.NOT_IN_GONG} ${summary.notFound} not in Gong` : '',
    summary.failed > 0 ? `${FAILED_ICON} ${summary.failed} not checked` : '',
  ].filter(Boolean);
  return `${summary.total} user${summary.total === 1 ? '' : 's'}: ${parts.join(' · ')}`;
}

function describeStatus(status: UserStatus): string {
  return status === 'OK' ? 'can be recorded' : status === 'INVALID' ? 'needs fixing' : 'not in Gong';
}
