// Slack's Block Kit limits (https://api.slack.com/reference/block-kit): past them Slack refuses the
// whole message with `invalid_blocks`, so every builder below cuts text to fit instead.
/** Blocks in one message. */
export const MAX_BLOCKS = 50;
/** A section's text, and a context element's. */
export const MAX_SECTION_TEXT = 3_000;
/** A header's plain text. */
export const MAX_HEADER_TEXT = 150;
/** A button's label. */
export const MAX_BUTTON_TEXT = 75;
/** A link button's URL. */
export const MAX_URL = 3_000;
/** Ours, not Slack's: the fallback is what notifications and old clients show, so it stays a summary. */
export const MAX_FALLBACK_TEXT = 3_000;

/** A Block Kit text object. */
export interface TextObject {
  type: 'mrkdwn' | 'plain_text';
  text: string;
  emoji?: boolean;
}

/** A button: with `url` a link (Slack opens it and still posts block_actions), else an action carrying `value`. */
export interface Button {
  type: 'button';
  text: TextObject;
  action_id: string;
  url?: string;
  value?: string;
  style?: 'primary';
}

/** The Block Kit blocks we send. */
export type Block =
  | { type: 'header'; text: TextObject }
  | { type: 'section'; text: TextObject; accessory?: Button }
  | { type: 'actions'; elements: Button[] }
  | { type: 'context'; elements: TextObject[] }
  | { type: 'divider' };

/** A Slack message: Block Kit plus the plain-text fallback Slack requires beside it. */
export interface BlockMessage {
  blocks: Block[];
  text: string;
}

/** Slack mrkdwn needs exactly these three escaped; the words stay as written. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** Cuts `text` to `max` characters, the last one an ellipsis, so a reader sees it was cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The message's plain-text fallback: the lines, cut to MAX_FALLBACK_TEXT. */
export function fallbackText(lines: string[]): string {
  return truncate(lines.join('\n'), MAX_FALLBACK_TEXT);
}

/** A mrkdwn text object (the text is taken as mrkdwn: escape what came from elsewhere first). */
export function mrkdwn(text: string): TextObject {
  return { type: 'mrkdwn', text };
}

/** A plain-text object with emoji shortcodes rendered. */
export function plainText(text: string): TextObject {
  return { type: 'plain_text', text, emoji: true };
}

/** A header block (plain text, cut to Slack's 150). */
export function header(text: string): Block {
  return { type: 'header', text: plainText(truncate(text, MAX_HEADER_TEXT)) };
}

/** A mrkdwn section (cut to Slack's 3000), with a button beside it when given. */
export function section(text: string, options: { accessory?: Button } = {}): Block {
  const block: Block = { type: 'section', text: mrkdwn(truncate(text, MAX_SECTION_TEXT)) };
  if (options.accessory) block.accessory = options.accessory;
  return block;
}

/** A context block of one mrkdwn element (cut to 3000). */
export function context(text: string): Block {
  return { type: 'context', elements: [mrkdwn(truncate(text, MAX_SECTION_TEXT))] };
}

/** An actions block holding these buttons. */
export function actions(elements: Button[]): Block {
  return { type: 'actions', elements };
}

/** A divider. */
export function divider(): Block {
  return { type: 'divider' };
}

/** A link button (label cut to Slack's 75); only pass URLs isLinkable accepts. */
export function linkButton(options: {
  text: string;
  url: string;
  actionId: string;
  primary?: boolean;
}): Button {
  return {
    type: 'button',
    text: plainText(truncate(options.text, MAX_BUTTON_TEXT)),
    url: options.url,
    action_id: options.actionId,
    ...(options.primary ? { style: 'primary' } : {}),
  };
}

/** A button's value (Slack's limit). */
export const MAX_BUTTON_VALUE = 2_000;

/** An action button: Slack posts block_actions with `action_id` and `value` (cut to Slack's 2000) to the interactivity URL. */
export function actionButton(options: { text: string; actionId: string; value: string }): Button {
  return {
    type: 'button',
    text: plainText(truncate(options.text, MAX_BUTTON_TEXT)),
    action_id: options.actionId,
    value: options.value.slice(0, MAX_BUTTON_VALUE),
  };
}

/**
 * Lines packed into as few sections as hold them (each within Slack's 3000), at most `maxBlocks`
 * blocks (at least 2); what does not fit is counted in a last context line, `more(hidden)`. A line is
 * cut only when it alone is longer than a section.
 */
export function packLines(
  lines: string[],
  options: { maxBlocks: number; more: (hidden: number) => string },
): Block[] {
  const maxBlocks = Math.max(2, options.maxBlocks);
  const blocks: Block[] = [];
  let current = '';
  for (const [index, raw] of lines.entries()) {
    const line = truncate(raw, MAX_SECTION_TEXT);
    const joined = current === '' ? line : `${current}\n${line}`;
    if (joined.length <= MAX_SECTION_TEXT) {
      current = joined;
      continue;
    }
    // The section being filled is full: another may start only if one block stays for the "more" line.
    if (blocks.length + 2 >= maxBlocks) {
      blocks.push(section(current), context(options.more(lines.length - index)));
      return blocks;
    }
    blocks.push(section(current));
    current = line;
  }
  if (current !== '') blocks.push(section(current));
  return blocks;
}

/** Whether Slack takes this as a button URL: http(s) and within MAX_URL. */
export function isLinkable(url: string | undefined): url is string {
  return url !== undefined && url.length <= MAX_URL && /^https?:\/\//i.test(url);
}

/**
 * An ISO time as Slack's date token: Slack renders it in the reader's own time zone, and shows
 * the UTC fallback on clients that cannot. With `time`, the time of day too.
 */
export function slackDate(iso: string, options: { time?: boolean } = {}): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return escapeMrkdwn(iso);
  return options.time
    ? `<!date^${seconds}^{date_short_pretty} {time}|${iso.slice(0, 16).replace('T', ' ')} UTC>`
    : `<!date^${seconds}^{date_short_pretty}|${iso.slice(0, 10)}>`;
}
