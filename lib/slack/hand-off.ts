import type { Logger } from '@aws-lambda-powertools/logger';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import { ValidationError } from '#lib/errors/errors.ts';
import { type BlockMessage, buildHelpMessage } from '#lib/slack/blocks.ts';
import { HOME_RECHECK_ACTION } from '#lib/slack/home-view.ts';
import { formatSkipped, parseCommand } from '#lib/slack/parse-command.ts';
import type { SlackJob } from '#lib/slack/worker.ts';

/** The slash command fields we read (Slack sends more). */
export interface SlashCommand {
  command: string;
  text: string;
  user_id: string;
  trigger_id: string;
  response_url: string;
}

/** What the ack carries back to Slack: ephemeral text, or Block Kit with its fallback. */
export type AckReply = { text: string } | BlockMessage;

/** Starts the worker on a job without waiting for it to run (the wiring passes an async Lambda invoke). */
export type StartWorker = (job: SlackJob) => Promise<void>;

/**
 * The slash command's fast path: parse, hand the work to the worker (awaited: Bolt's Lambda receiver
 * answers Slack only after this returns, and a Lambda may freeze right after), then say what is coming.
 * Nothing here calls Gong or writes to DynamoDB; help and unusable input are answered directly.
 */
export function createHandOff(deps: { startWorker: StartWorker; logger: Logger }) {
  return async (command: SlashCommand, requestId: string): Promise<AckReply> => {
    let parsed: ReturnType<typeof parseCommand>;
    try {
      parsed = parseCommand(command.text ?? '');
    } catch (error: unknown) {
      if (error instanceof ValidationError) return { text: error.message };
      throw error;
    }
    if (parsed.kind === 'help') return buildHelpMessage(command.command || '/gong-status');

    const job: SlackJob = {
      triggerId: command.trigger_id,
      responseUrl: command.response_url,
      userId: command.user_id,
      command: parsed.kind === 'check' ? { kind: 'check', targets: parsed.targets } : parsed,
    };
    try {
      await deps.startWorker(job);
    } catch (error: unknown) {
      deps.logger.error('Could not start the Slack worker', {
        error: error instanceof Error ? error : String(error),
      });
      return {
        text: `Sorry, I could not start that just now. Please try again in a moment (request id ${requestId}).`,
      };
    }

    switch (parsed.kind) {
      case 'self':
        return { text: 'Checking your Gong recording status… the answer follows here.' };
      case 'check': {
        const count = parsed.targets.length;
        const skipped =
          parsed.skipped.length > 0
            ? ` Skipped (not an email or @mention): ${formatSkipped(parsed.skipped)}.`
            : '';
        return {
          text: `Checking ${count} user${count === 1 ? '' : 's'} in Gong… the answer follows here.${skipped}`,
        };
      }
      case 'history':
        return { text: 'Fetching the history… it follows here.' };
      case 'team':
        return { text: 'Counting everyone checked so far… the answer follows here.' };
    }
  };
}

/** The block_actions fields a Re-check click carries that we read. */
export interface RecheckClick {
  triggerId: string;
  userId: string;
  actionId: string;
  /** The button's value: the email to check again. */
  value: string | undefined;
  /** Absent for clicks on the Home tab (a view, not a message). */
  responseUrl: string | undefined;
}

/**
 * A Re-check click: hand the re-check to the worker (awaited, as for commands); the worker replaces
 * the message it was on, or re-publishes the Home tab when the click came from there. Nothing is
 * answered in the ack: Slack ignores a block_actions ack's body.
 */
export function createRecheckHandOff(deps: { startWorker: StartWorker; logger: Logger }) {
  return async (click: RecheckClick): Promise<void> => {
    let job: SlackJob;
    if (click.actionId === HOME_RECHECK_ACTION || click.responseUrl === undefined) {
      job = { triggerId: click.triggerId, userId: click.userId, command: { kind: 'home', recheck: true } };
    } else {
      const email = normaliseEmail(click.value ?? '');
      if (!isEmail(email)) {
        deps.logger.warn('Re-check click without an email as its value', { actionId: click.actionId });
        return;
      }
      job = {
        triggerId: click.triggerId,
        responseUrl: click.responseUrl,
        userId: click.userId,
        command: { kind: 'recheck', email },
      };
    }
    try {
      await deps.startWorker(job);
    } catch (error: unknown) {
      deps.logger.error('Could not start the Slack worker for a click', {
        error: error instanceof Error ? error : String(error),
      });
    }
  };
}

/**
 * `app_home_opened` on the Home tab: hand the publish to the worker, keyed by the event_id so a
 * retried delivery (x-slack-retry-num, when an ack was late) publishes once. A failed hand-off is
 * logged; the tab keeps what it showed, and opening it again sends a new event.
 */
export function createHomeHandOff(deps: { startWorker: StartWorker; logger: Logger }) {
  return async (opened: { eventId: string; userId: string }): Promise<void> => {
    try {
      await deps.startWorker({ triggerId: opened.eventId, userId: opened.userId, command: { kind: 'home' } });
    } catch (error: unknown) {
      deps.logger.error('Could not start the Slack worker for App Home', {
        error: error instanceof Error ? error : String(error),
      });
    }
  };
}
