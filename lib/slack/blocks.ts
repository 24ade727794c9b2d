import { assertNever, decidingCode } from '#lib/check/failures.ts';
import type { CheckFailure, CheckReport, UserResult, UserStatus } from '#lib/check/report.ts';
import type { StoredResult } from '#lib/history/history-store.ts';
import {
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
  section,
  slackDate,
  truncate,
} from '#lib/slack/block-kit.ts';
import type { TeamSummary } from '#lib/slack/team-summary.ts';

// The worker and the hand-off take their message type from here, beside the builders.
export type { BlockMessage } from '#lib/slack/block-kit.ts';

/** Link buttons still send a block_actions payload; the slack function acks these action ids. */
export const LINK_ACTION_PREFIXES = ['fix-it', 'learn-more'] as const;

const ICON: Record<UserStatus, string> = { OK: '✅', INVALID: '⚠️', NOT_IN_GONG: '❓' };
const FAILED_ICON = '❌';
// Actionable users first: when 50 blocks cannot hold everyone, the ones left out are the fine ones.
const ORDER: Record<UserStatus, number> = { INVALID: 0, NOT_IN_GONG: 1, OK: 3 };
const FAILED_ORDER = 2;

/** The worker's answer to a check: a summary line, then one section per user (Fix it / Learn more buttons where Gong gave links). */
export function buildCheckMessage(report: CheckReport, options: { notes?: string[] } = {}): BlockMessage {
  const notes = options.notes ?? [];
  const { summary } = report;
  if (report.results.length === 0 && report.failures.length > 0) {
    return buildGongFailedMessage(report.failures, report.requestId, notes);
  }
  const head = summaryLine(summary);
  const blocks: Block[] = [section(`*Gong recording status* — ${head}`)];
  if (notes.length > 0) blocks.push(context(notes.join('\n')));

  type Entry = { order: number; blocks: Block[]; line: string };
  const entries: Entry[] = [
    ...report.results.map((result, index) => userEntry(result, index)),
    ...report.failures.map((failure) => failureEntry(failure)),
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
      reason = `Today's Gong call budget is spent${retryAfter > 0 ? `; try again in ${retryAfter} s` : '; try again tomorrow'}.`;
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
  if (notes.length > 0) blocks.push(context(notes.join('\n')));
  return { blocks, text };
}

/** A failure before or around the check (our side): honest, with the request id, never internals. */
export function buildErrorMessage(requestId: string, what = 'check'): BlockMessage {
  const text = `${FAILED_ICON} Sorry, the ${what} failed on our side. Please try again; if it keeps failing, give your admin the request id ${requestId}.`;
  return { blocks: [section(escapeMrkdwn(text))], text };
}

/** A short note only (e.g. nobody left to check). */
export function buildNoteMessage(lines: string[]): BlockMessage {
  const text = lines.join('\n');
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

/** `/gong-status team`: counts per status, then the broken users (longest broken first) and how many more. */
export function buildTeamMessage(team: TeamSummary): BlockMessage {
  const { counts } = team;
  const total = counts.OK + counts.INVALID + counts.NOT_IN_GONG;
  const head = `*Team status* — ${total} user${total === 1 ? '' : 's'} checked so far: ${ICON.OK} ${counts.OK} can be recorded · ${ICON.INVALID} ${counts.INVALID} need fixing · ${ICON.NOT_IN_GONG} ${counts.NOT_IN_GONG} not in Gong`;
  const blocks: Block[] = [section(head)];
  if (team.broken.length === 0) {
    blocks.push(
      section(total === 0 ? 'Nobody has been checked yet.' : 'Everyone checked can be recorded. 🎉'),
    );
  } else {
    const lines = team.broken.map((user) => {
      const why =
        user.status === 'INVALID'
          ? ` — ${escapeMrkdwn(truncate(user.userFacingError ?? '', 120))}`
          : ' — not in Gong';
      const fix = isLinkable(user.fixUrl) ? ` <${user.fixUrl}|Fix it>` : '';
      return `${ICON[user.status]} *${escapeMrkdwn(user.email)}* since ${slackDate(user.since, { time: true })}${why}${fix}`;
    });
    blocks.push(section(lines.join('\n')));
    if (team.moreBroken > 0) blocks.push(context(`…and ${team.moreBroken} more not shown.`));
  }
  const text = `Team status: ${counts.OK} can be recorded, ${counts.INVALID} need fixing, ${counts.NOT_IN_GONG} not in Gong`;
  return { blocks, text };
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
  const blocks: Block[] = [section(`${ICON[result.status]} *${email}* — ${detail}${change}`)];
  const buttons = linkButtons(result, index);
  if (buttons.length > 0) blocks.push(actions(buttons));
  const line = `${ICON[result.status]} ${result.email}: ${result.status === 'OK' ? 'OK' : (result.userFacingError ?? describeStatus(result.status))}`;
  return { order: ORDER[result.status], blocks, line };
}

function failureEntry(failure: CheckFailure): { order: number; blocks: Block[]; line: string } {
  const text = `${FAILED_ICON} *${escapeMrkdwn(failure.email)}* — could not check: ${escapeMrkdwn(failure.message)}`;
  return {
    order: FAILED_ORDER,
    blocks: [section(text)],
    line: `${FAILED_ICON} ${failure.email}: not checked (${failure.code})`,
  };
}

function linkButtons(user: { fixUrl?: string; helpUrl?: string }, index: number): Button[] {
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
