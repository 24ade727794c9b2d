import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import type { CheckUsers } from '#lib/check/check-users.ts';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import { ValidationError } from '#lib/errors.ts';
import type { HistoryStore } from '#lib/history/history-store.ts';
import { mapLimit } from '#lib/map-limit.ts';
import {
  type BlockMessage,
  buildCheckMessage,
  buildErrorMessage,
  buildHistoryMessage,
  buildNoteMessage,
  buildTeamMessage,
} from '#lib/slack/blocks.ts';
import { MAX_USERS_PER_COMMAND, type Target, USER_ID } from '#lib/slack/parse-command.ts';
import { summariseTeam } from '#lib/slack/team-summary.ts';
import { type SlackApi, SlackApiError, type SlackMessage } from '#lib/slack/web-api.ts';

const targetSchema = z.union([
  z.object({
    kind: z.literal('email'),
    email: z.string().check(z.refine((value) => isEmail(normaliseEmail(value)))),
  }),
  z.object({ kind: z.literal('user'), userId: z.string().check(z.regex(USER_ID)) }),
]);

const jobSchema = z.object({
  /** Slack's id of the command invocation: the idempotency key (one answer per command). */
  triggerId: z.string().check(z.minLength(1), z.maxLength(200)),
  responseUrl: z.url({ protocol: /^https?$/ }),
  /** The caller's Slack user id. */
  userId: z.string().check(z.minLength(1), z.maxLength(40)),
  command: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('self') }),
    z.object({
      kind: z.literal('check'),
      targets: z.array(targetSchema).check(z.minLength(1), z.maxLength(MAX_USERS_PER_COMMAND)),
    }),
    z.object({ kind: z.literal('history'), target: targetSchema }),
    z.object({ kind: z.literal('team') }),
  ]),
});

/** What the slack function hands the worker: the parsed command and where to answer. */
export type SlackJob = z.infer<typeof jobSchema>;

/** Validates a worker event; throws ValidationError naming the problem (the event comes from our own slack function). */
export function parseSlackJob(event: unknown): SlackJob {
  const parsed = jobSchema.safeParse(event);
  if (!parsed.success) {
    const where = parsed.error.issues.map((issue) => issue.path.join('.') || '(event)').join(', ');
    throw new ValidationError(`Slack worker event is malformed at: ${where}`, { code: 'BAD_SLACK_JOB' });
  }
  return parsed.data;
}

/** What one job did, kept small: Powertools stores it as the idempotency record's result. */
export interface SlackJobOutcome {
  kind: SlackJob['command']['kind'];
  checked: number;
  answered: boolean;
}

interface WorkerDeps {
  checkUsers: CheckUsers;
  store: Pick<HistoryStore, 'listHistory' | 'listByStatus'>;
  slack: Pick<SlackApi, 'getUser'>;
  respond: (responseUrl: string, message: SlackMessage) => Promise<void>;
  logger: Logger;
}

/** Resolving this many mentions at once stays far below users.info's rate tier. */
const LOOKUP_CONCURRENCY = 5;

/** Runs a slash command's work (check, history, team) and answers through its response_url. */
export function createSlackWorker(deps: WorkerDeps) {
  const { logger } = deps;

  async function resolve(
    targets: Target[],
    callerId: string,
  ): Promise<{ emails: string[]; notes: string[] }> {
    const notes: string[] = [];
    const found = await mapLimit(targets, LOOKUP_CONCURRENCY, async (target) => {
      if (target.kind === 'email') return normaliseEmail(target.email);
      const who = target.userId === callerId ? 'Your Slack profile' : `<@${target.userId}>`;
      try {
        const user = await deps.slack.getUser(target.userId);
        if (user.email) return normaliseEmail(user.email);
        notes.push(
          `${who} has no email address in Slack${user.isBot ? ' (a bot)' : ''}, so Gong cannot be asked about ${target.userId === callerId ? 'you' : 'them'}. Try an email instead: \`/gong-status name@company.com\`.`,
        );
      } catch (error: unknown) {
        if (!(error instanceof SlackApiError)) throw error;
        logger.warn('users.info failed', { code: error.code });
        notes.push(
          error.code === 'user_not_found'
            ? `${who}: no such user in this workspace.`
            : `Could not look up ${who}: Slack said \`${error.code}\`${error.code === 'missing_scope' ? ' (the app needs the users:read.email scope)' : ''}.`,
        );
      }
      return undefined;
    });
    const emails = [...new Set(found.filter((email): email is string => email !== undefined))];
    return { emails, notes };
  }

  async function answer(
    job: SlackJob,
    requestId: string,
    deadline: number,
  ): Promise<{ message: BlockMessage; checked: number }> {
    const { command } = job;
    switch (command.kind) {
      case 'self':
      case 'check': {
        const targets: Target[] =
          command.kind === 'self' ? [{ kind: 'user', userId: job.userId }] : command.targets;
        const { emails, notes } = await resolve(targets, job.userId);
        if (emails.length === 0) return { message: buildNoteMessage(notes), checked: 0 };
        const report = await deps.checkUsers(emails, {
          source: 'slack',
          requestId,
          deadline,
          maxEmails: MAX_USERS_PER_COMMAND,
        });
        return { message: buildCheckMessage(report, { notes }), checked: report.results.length };
      }
      case 'history': {
        const { emails, notes } = await resolve([command.target], job.userId);
        const [email] = emails;
        if (email === undefined) return { message: buildNoteMessage(notes), checked: 0 };
        const page = await deps.store.listHistory(email, { limit: 10 });
        return { message: buildHistoryMessage(email, page.items), checked: 0 };
      }
      case 'team':
        return { message: buildTeamMessage(await summariseTeam(deps.store)), checked: 0 };
    }
  }

  return async (
    job: SlackJob,
    context: { requestId: string; deadline: number },
  ): Promise<SlackJobOutcome> => {
    const { kind } = job.command;
    let result: { message: BlockMessage; checked: number };
    try {
      result = await answer(job, context.requestId, context.deadline);
    } catch (error: unknown) {
      logger.error('Slack job failed', { kind, error: error instanceof Error ? error : String(error) });
      // Tell the caller honestly, then fail the invocation so the on-failure destination keeps a record.
      await deps
        .respond(
          job.responseUrl,
          buildErrorMessage(context.requestId, kind === 'check' || kind === 'self' ? 'check' : kind),
        )
        .catch((respondError: unknown) => {
          logger.error('Could not tell the caller about the failure', {
            code: respondError instanceof SlackApiError ? respondError.code : 'unknown',
          });
        });
      throw error;
    }
    await deps.respond(job.responseUrl, result.message);
    return { kind, checked: result.checked, answered: true };
  };
}
