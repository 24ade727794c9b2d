import type { Logger } from '@aws-lambda-powertools/logger';
import { ValidationError } from '#lib/errors.ts';
import { type BlockMessage, buildHelpMessage } from '#lib/slack/blocks.ts';
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
