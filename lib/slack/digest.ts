import type { ChangeEvent } from '#lib/history/change-log.ts';
import { MAX_BLOCKS } from '#lib/slack/blocks.ts';

interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
  emoji?: boolean;
}
interface LinkButton {
  type: 'button';
  text: TextObject;
  url: string;
  /** `fix-it:` / `learn-more:` prefixes: the slack function acks the block_actions Slack sends for link buttons. */
  action_id: string;
  style?: 'primary';
}
/** The Block Kit blocks the sweep sends. */
export type DigestBlock =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text: TextObject; accessory?: LinkButton }
  | { type: 'actions'; elements: LinkButton[] }
  | { type: 'context'; elements: TextObject[] };

/** A Slack message: Block Kit plus the plain-text fallback (notifications, screen readers). */
export interface DigestMessage {
  blocks: DigestBlock[];
  text: string;
}

// Slack's limits: header text 150 characters, section text 3000, button URL 3000.
const MAX_HEADER = 150;
const MAX_SECTION = 3_000;
const MAX_URL = 3_000;
const MAX_FALLBACK = 3_000;
// Blocks kept back for the header, the fixed list, the counts and the "more" line.
const RESERVED_BLOCKS = 5;

/** What one sweep saw change, and how many are broken now. */
export interface DigestInput {
  broke: ChangeEvent[];
  fixed: ChangeEvent[];
  stillBroken: { invalid: number; notInGong: number };
  checked: number;
}

/** The sweep's one digest for ALERT_CHANNEL: newly broken (Gong's message, Fix it), fixed, still broken. */
export function buildChangeDigest(input: DigestInput): DigestMessage {
  const { broke, fixed, stillBroken } = input;
  const title = [
    broke.length > 0 ? `${broke.length} can no longer be recorded` : '',
    fixed.length > 0 ? `${fixed.length} fixed` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const blocks: DigestBlock[] = [
    { type: 'header', text: plain(truncate(`Gong recording: ${title}`, MAX_HEADER)) },
  ];

  const room = MAX_BLOCKS - RESERVED_BLOCKS;
  const shown = broke.slice(0, room);
  shown.forEach((event, index) => {
    blocks.push(brokenSection(event, index));
  });
  if (broke.length > shown.length) {
    blocks.push(context(`…and ${broke.length - shown.length} more newly broken, not shown here.`));
  }

  if (fixed.length > 0) {
    const names = fixed.map((event) => `*${escapeMrkdwn(event.email)}*`);
    blocks.push(section(truncateList(`✅ *Fixed:* `, names, MAX_SECTION)));
  }

  const total = stillBroken.invalid + stillBroken.notInGong;
  const counts =
    total === 0
      ? 'Nobody is broken now. 🎉'
      : `${total} still broken: ⚠️ ${stillBroken.invalid} need fixing · ❓ ${stillBroken.notInGong} not in Gong`;
  blocks.push(
    context(`${counts} · this sweep checked ${input.checked} user${input.checked === 1 ? '' : 's'}`),
  );

  const lines = [
    `Gong recording: ${title}.`,
    ...broke.map((event) => `⚠️ ${event.email}: ${event.userFacingError ?? describe(event)}`),
    ...(fixed.length > 0 ? [`✅ Fixed: ${fixed.map((event) => event.email).join(', ')}`] : []),
    `${total} still broken.`,
  ];
  return { blocks, text: truncate(lines.join('\n'), MAX_FALLBACK) };
}

/** The direct message to someone whose meetings Gong cannot record: Gong's words and its Fix it link. */
export function buildNudgeMessage(user: {
  email: string;
  since: string;
  userFacingError?: string;
  fixUrl?: string;
  helpUrl?: string;
}): DigestMessage {
  const why = user.userFacingError ?? 'Gong cannot record your meetings.';
  const blocks: DigestBlock[] = [
    section(
      `⚠️ *Gong cannot record your meetings* (${escapeMrkdwn(user.email)}).\n${escapeMrkdwn(truncate(why, 2_000))}`,
    ),
  ];
  const buttons: LinkButton[] = [];
  if (isLinkable(user.fixUrl)) buttons.push(button('Fix it', user.fixUrl, 'fix-it:nudge', true));
  if (isLinkable(user.helpUrl)) buttons.push(button('Learn more', user.helpUrl, 'learn-more:nudge'));
  if (buttons.length > 0) blocks.push({ type: 'actions', elements: buttons });
  blocks.push(
    context(
      `Broken since ${slackDate(user.since)}. You get at most three of these reminders, and none once it is fixed.`,
    ),
  );
  return { blocks, text: `Gong cannot record your meetings: ${why}` };
}

function brokenSection(event: ChangeEvent, index: number): DigestBlock {
  const why = escapeMrkdwn(truncate(event.userFacingError ?? describe(event), 2_000));
  const block: DigestBlock = {
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(`⚠️ *${escapeMrkdwn(event.email)}* — ${why}`, MAX_SECTION) },
  };
  if (isLinkable(event.fixUrl))
    block.accessory = button('Fix it', event.fixUrl, `fix-it:digest-${index}`, true);
  return block;
}

function describe(event: ChangeEvent): string {
  return event.to === 'NOT_IN_GONG'
    ? 'Gong no longer knows this email.'
    : 'Gong cannot record their meetings.';
}

function button(text: string, url: string, actionId: string, primary = false): LinkButton {
  return {
    type: 'button',
    text: plain(text),
    url,
    action_id: actionId,
    ...(primary ? { style: 'primary' } : {}),
  };
}

function isLinkable(url: string | undefined): url is string {
  return url !== undefined && url.length <= MAX_URL && /^https?:\/\//i.test(url);
}

/** Slack renders this in the reader's own time zone; the fallback is for clients that cannot. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return escapeMrkdwn(iso);
  return `<!date^${seconds}^{date_short_pretty}|${iso.slice(0, 10)}>`;
}

/** As many names as fit, then how many more. */
function truncateList(head: string, names: string[], max: number): string {
  let text = head;
  for (const [index, name] of names.entries()) {
    const rest = names.length - index;
    const next = `${index === 0 ? '' : ', '}${name}`;
    if (text.length + next.length + ` and ${rest} more`.length > max) return `${text} and ${rest} more`;
    text += next;
  }
  return text;
}

/** Slack mrkdwn needs exactly these three escaped. */
function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function section(text: string): DigestBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

function context(text: string): DigestBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text }] };
}

function plain(text: string): TextObject {
  return { type: 'plain_text', text, emoji: true };
}
