import type { ChangeEvent } from '#lib/history/change-log.ts';
import { groupByCause, type Problem } from '#lib/problems/group-by-cause.ts';
import {
  actions,
  type Block,
  type BlockMessage,
  type Button,
  context,
  escapeMrkdwn,
  fallbackText,
  header,
  isLinkable,
  linkButton,
  MAX_BLOCKS,
  MAX_SECTION_TEXT,
  section,
  slackDate,
  truncate,
} from '#lib/slack/block-kit.ts';

// Blocks kept back for the header, the fixed list, the counts and the "more" line.
const RESERVED_BLOCKS = 5;

/** What one sweep saw change, and how many are broken now. */
export interface DigestInput {
  broke: ChangeEvent[];
  fixed: ChangeEvent[];
  stillBroken: { invalid: number; notInGong: number };
  checked: number;
}

/**
 * The sweep's one digest for ALERT_CHANNEL: the newly broken grouped by cause (one section per
 * company-wide cause with its count and the admin's Fix it; a section per user otherwise), the fixed,
 * and how many are still broken.
 */
export function buildChangeDigest(input: DigestInput): BlockMessage {
  const { broke, fixed, stillBroken } = input;
  const title = [
    broke.length > 0 ? `${broke.length} can no longer be recorded` : '',
    fixed.length > 0 ? `${fixed.length} fixed` : '',
  ]
    .filter(Boolean)
    .join(', ');
  const blocks: Block[] = [header(`Gong recording: ${title}`)];

  const problems = groupByCause(
    broke.map((event) => ({
      email: event.email,
      status: event.to,
      since: event.at,
      ...(event.userFacingError === undefined ? {} : { userFacingError: event.userFacingError }),
      ...(event.fixUrl === undefined ? {} : { fixUrl: event.fixUrl }),
    })),
    { maxEmails: broke.length },
  );
  const byEmail = new Map(broke.map((event) => [event.email, event]));
  const companyWide = problems.filter((problem) => problem.scope === 'company');
  const perUser = problems
    .filter((problem) => problem.scope === 'user')
    .flatMap((problem) => problem.emails.flatMap((email) => byEmail.get(email) ?? []));
  const room = MAX_BLOCKS - RESERVED_BLOCKS;
  const causes = companyWide.slice(0, room);
  causes.forEach((problem, index) => {
    blocks.push(causeSection(problem, index));
  });
  const users = perUser.slice(0, room - causes.length);
  users.forEach((event, index) => {
    blocks.push(brokenSection(event, index));
  });
  const hidden =
    companyWide.slice(causes.length).reduce((sum, problem) => sum + problem.count, 0) +
    perUser.length -
    users.length;
  if (hidden > 0) {
    blocks.push(context(`…and ${hidden} more newly broken, not shown here.`));
  }

  if (fixed.length > 0) {
    const names = fixed.map((event) => `*${escapeMrkdwn(event.email)}*`);
    blocks.push(section(truncateList(`✅ *Fixed:* `, names, MAX_SECTION_TEXT)));
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
    ...companyWide.map((problem) => `⚠️ ${problem.count} users: ${problem.message} (company-wide)`),
    ...perUser.map((event) => `⚠️ ${event.email}: ${event.userFacingError ?? describe(event)}`),
    ...(fixed.length > 0 ? [`✅ Fixed: ${fixed.map((event) => event.email).join(', ')}`] : []),
    `${total} still broken.`,
  ];
  return { blocks, text: fallbackText(lines) };
}

/** The direct message to someone whose meetings Gong cannot record: Gong's words and its Fix it link. */
export function buildNudgeMessage(user: {
  email: string;
  since: string;
  userFacingError?: string;
  fixUrl?: string;
  helpUrl?: string;
}): BlockMessage {
  const why = user.userFacingError ?? 'Gong cannot record your meetings.';
  const blocks: Block[] = [
    section(
      `⚠️ *Gong cannot record your meetings* (${escapeMrkdwn(user.email)}).\n${escapeMrkdwn(truncate(why, 2_000))}`,
    ),
  ];
  const buttons: Button[] = [];
  if (isLinkable(user.fixUrl))
    buttons.push(linkButton({ text: 'Fix it', url: user.fixUrl, actionId: 'fix-it:nudge', primary: true }));
  if (isLinkable(user.helpUrl))
    buttons.push(linkButton({ text: 'Learn more', url: user.helpUrl, actionId: 'learn-more:nudge' }));
  if (buttons.length > 0) blocks.push(actions(buttons));
  blocks.push(
    context(
      `Broken since ${slackDate(user.since)}. You get at most three of these reminders, and none once it is fixed.`,
    ),
  );
  return { blocks, text: `Gong cannot record your meetings: ${why}` };
}

/** A company-wide cause: Gong's message once, how many it broke, and the admin's Fix it. */
function causeSection(problem: Problem, index: number): Block {
  const why = escapeMrkdwn(truncate(problem.message, 2_000));
  const text = `⚠️ *${problem.count} user${problem.count === 1 ? '' : 's'}* — ${why} _(company-wide: a Gong admin fixes it once)_`;
  if (!isLinkable(problem.fixUrl)) return section(text);
  const accessory = linkButton({
    text: 'Fix it',
    url: problem.fixUrl,
    actionId: `fix-it:digest-cause-${index}`,
    primary: true,
  });
  return section(text, { accessory });
}

function brokenSection(event: ChangeEvent, index: number): Block {
  const why = escapeMrkdwn(truncate(event.userFacingError ?? describe(event), 2_000));
  const text = `⚠️ *${escapeMrkdwn(event.email)}* — ${why}`;
  if (!isLinkable(event.fixUrl)) return section(text);
  const accessory = linkButton({
    text: 'Fix it',
    url: event.fixUrl,
    actionId: `fix-it:digest-${index}`,
    primary: true,
  });
  return section(text, { accessory });
}

function describe(event: ChangeEvent): string {
  return event.to === 'NOT_IN_GONG'
    ? 'Gong no longer knows this email.'
    : 'Gong cannot record their meetings.';
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
