import type { UserStatus } from '#lib/check/report.ts';
import {
  actions,
  type Block,
  context,
  divider,
  escapeMrkdwn,
  header,
  MAX_BLOCKS,
  section,
  slackDate,
} from '#lib/slack/block-kit.ts';
import { linkButtons, RECHECK_ACTION_PREFIX, recheckButton, teamBlocks } from '#lib/slack/blocks.ts';
import type { TeamSummary } from '#lib/slack/team-summary.ts';

/** The Home tab as views.publish takes it. */
export interface HomeView {
  type: 'home';
  blocks: Block[];
}

/** The user's own status as the home tab shows it. */
export interface OwnStatus {
  email: string;
  status: UserStatus;
  userFacingError?: string;
  fixUrl?: string;
  helpUrl?: string;
  checkedAt: string;
}

/** The Re-check button on the home tab: it re-checks the viewer and publishes the tab again. */
export const HOME_RECHECK_ACTION = `${RECHECK_ACTION_PREFIX}:home`;

const ICON: Record<UserStatus, string> = { OK: '✅', INVALID: '⚠️', NOT_IN_GONG: '❓' };

/**
 * The App Home tab (README "Slack"): the viewer's own status with Fix it / Learn more / Re-check,
 * or a note saying why there is none; for admins the team below it, grouped by cause.
 */
export function buildHomeView(input: {
  own: OwnStatus | { note: string };
  team?: TeamSummary;
  teamPageUrl?: string;
}): HomeView {
  const blocks: Block[] = [header('Can Gong record your meetings?')];
  const { own } = input;
  if ('note' in own) {
    blocks.push(section(own.note));
  } else {
    const detail =
      own.status === 'OK'
        ? 'Gong can record your meetings.'
        : escapeMrkdwn(
            own.userFacingError ??
              (own.status === 'INVALID'
                ? 'Gong cannot record your meetings.'
                : 'No Gong user has this email.'),
          );
    blocks.push(
      section(`${ICON[own.status]} *${escapeMrkdwn(own.email)}* — ${detail}`, {
        accessory: recheckButton(own.email, HOME_RECHECK_ACTION),
      }),
    );
    const buttons = own.status === 'OK' ? [] : linkButtons(own, 'home');
    if (buttons.length > 0) blocks.push(actions(buttons));
    blocks.push(context(`Checked ${slackDate(own.checkedAt, { time: true })}`));
  }
  if (input.team) {
    blocks.push(divider(), header('Your team'));
    blocks.push(
      ...teamBlocks(input.team, {
        maxBlocks: MAX_BLOCKS - blocks.length,
        ...(input.teamPageUrl === undefined ? {} : { teamPageUrl: input.teamPageUrl }),
      }),
    );
  }
  return { type: 'home', blocks };
}

/** What to publish when Slack refuses the real view: the same facts in one plain section. */
export function plainHomeView(text: string): HomeView {
  return { type: 'home', blocks: [section(escapeMrkdwn(text))] };
}
