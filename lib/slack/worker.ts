import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import type { CheckUsers } from '#lib/check/check-users.ts';
import { isEmail, normaliseEmail } from '#lib/check/emails.ts';
import { mapLimit } from '#lib/concurrency/map-limit.ts';
import { ValidationError } from '#lib/errors/errors.ts';
import type { HistoryStore } from '#lib/history/history-store.ts';
import { escapeMrkdwn } from '#lib/slack/block-kit.ts';
import {
  type BlockMessage,
  buildCheckMessage,
  buildErrorMessage,
  buildHistoryMessage,
  buildNoteMessage,
  buildTeamMessage,
} from '#lib/slack/blocks.ts';
import { buildHomeView, type HomeView, type OwnStatus, plainHomeView } from '#lib/slack/home-view.ts';
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

const emailSchema = z.string().check(z.refine((value) => isEmail(normaliseEmail(value))));

const commandJobSchema = z.object({
  /** Slack's id of the command invocation or click: the idempotency key (one answer per command or click). */
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
    /** A Re-check click on an answer: check this user again and replace the message. */
    z.object({ kind: z.literal('recheck'), email: emailSchema }),
  ]),
});

const homeJobSchema = z.object({
  /** The Events API's event_id (or a Home tab click's trigger_id): one publish per delivery. */
  triggerId: z.string().check(z.minLength(1), z.maxLength(200)),
  /** Whose Home tab to publish. */
  userId: z.string().check(z.regex(USER_ID)),
  /** `recheck`: the Re-check button on the Home tab, so check now whatever is stored. */
  command: z.object({ kind: z.literal('home'), recheck: z.optional(z.boolean()) }),
});

const jobSchema = z.union([commandJobSchema, homeJobSchema]);

/** A job that answers through a response_url: a command or a click on one of its answers. */
export type SlackCommandJob = z.infer<typeof commandJobSchema>;
/** A job that publishes someone's Home tab. */
export type SlackHomeJob = z.infer<typeof homeJobSchema>;
/** What the slack function hands the worker: the parsed command or event and where to answer. */
export type SlackJob = SlackCommandJob | SlackHomeJob;

function isHomeJob(job: SlackJob): job is SlackHomeJob {
  return job.command.kind === 'home';
}

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
  store: Pick<HistoryStore, 'listHistory' | 'listByStatus' | 'getLatest'>;
  slack: Pick<SlackApi, 'getUser' | 'publishHome'>;
  respond: (responseUrl: string, message: SlackMessage & { replace_original?: boolean }) => Promise<void>;
  logger: Logger;
  /** SLACK_ADMIN_USERS: who sees the team in App Home besides workspace admins and owners. */
  adminUsers?: readonly string[];
  /** The team-health page App Home links admins to, when it is deployed. */
  teamPageUrl?: string;
  now?: () => number;
}

/** Resolving this many mentions at once stays far below users.info's rate tier. */
const LOOKUP_CONCURRENCY = 5;
/**
 * App Home shows the stored status when it is younger than this, else checks afresh: people open
 * the Home tab often, and each fresh check spends Gong's daily budget (a status rarely changes
 * within hours; the sweep and the Re-check button cover the rest).
 */
export const HOME_FRESH_FOR_MS = 6 * 60 * 60 * 1000;

/**
 * Runs a slash command's work (check, history, team) or a Re-check click and answers through its
 * response_url, or publishes someone's Home tab.
 */
export function createSlackWorker(deps: WorkerDeps) {
  const { logger } = deps;
  const now = deps.now ?? Date.now;

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
        if (user.email) {
          const email = normaliseEmail(user.email);
          if (isEmail(email)) return email;
          // One unusable profile (jürgen@firma.de) must not fail everyone else's check.
          notes.push(
            `${who} has the email \`${escapeMrkdwn(user.email.replaceAll('`', "'"))}\` in Slack, which is not an address Gong can be asked about. Try their Gong email instead: \`/gong-status name@company.com\`.`,
          );
          return undefined;
        }
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
    job: SlackCommandJob,
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
      case 'team': {
        const team = await summariseTeam(deps.store);
        const page = deps.teamPageUrl === undefined ? {} : { teamPageUrl: deps.teamPageUrl };
        return { message: buildTeamMessage(team, page), checked: 0 };
      }
      case 'recheck': {
        const report = await deps.checkUsers([normaliseEmail(command.email)], {
          source: 'slack',
          requestId,
          deadline,
          maxEmails: 1,
        });
        return { message: buildCheckMessage(report, { stamped: true }), checked: report.results.length };
      }
    }
  }

  /** Posts the answer; when Slack refuses its blocks, the same answer as text alone. */
  async function deliver(
    responseUrl: string,
    message: BlockMessage & { replace_original?: boolean },
  ): Promise<void> {
    try {
      await deps.respond(responseUrl, message);
    } catch (error: unknown) {
      if (!(error instanceof SlackApiError) || !error.code.includes('invalid_blocks')) throw error;
      logger.warn('Slack refused the answer’s blocks; answering in text', { code: error.code });
      const { blocks: _blocks, ...text } = message;
      await deps.respond(responseUrl, text);
    }
  }

  async function ownStatus(
    email: string,
    options: { recheck: boolean; requestId: string; deadline: number },
  ): Promise<{ own: OwnStatus | { note: string }; checked: number }> {
    const stored = await deps.store.getLatest(email);
    const age = stored ? now() - Date.parse(stored.checkedAt) : Number.POSITIVE_INFINITY;
    if (stored && !options.recheck && age < HOME_FRESH_FOR_MS) return { own: stored, checked: 0 };
    const report = await deps.checkUsers([email], {
      source: 'slack',
      requestId: options.requestId,
      deadline: options.deadline,
      maxEmails: 1,
    });
    const [result] = report.results;
    if (result) return { own: result, checked: 1 };
    const failure = report.failures[0];
    logger.warn('App Home check failed', { code: failure?.code ?? 'unknown' });
    if (stored) return { own: stored, checked: 0 };
    return {
      own: {
        note: `Gong did not answer just now (${failure?.code ?? 'no answer'}), so your status is not known yet. Open this tab again in a few minutes, or try \`/gong-status\`.`,
      },
      checked: 0,
    };
  }

  /** App Home: the viewer's own status (fresh enough), and for admins the team, grouped by cause. */
  async function publishHome(
    job: SlackHomeJob,
    context: { requestId: string; deadline: number },
  ): Promise<SlackJobOutcome> {
    const user = await deps.slack.getUser(job.userId);
    const isAdmin = user.isAdmin || (deps.adminUsers ?? []).includes(job.userId);
    const email = user.email === undefined ? undefined : normaliseEmail(user.email);
    let own: OwnStatus | { note: string };
    let checked = 0;
    if (email === undefined || !isEmail(email)) {
      own = {
        note:
          email === undefined
            ? 'Your Slack profile has no email address, so Gong cannot be asked about you. Check anyone by email with `/gong-status name@company.com`.'
            : `Your Slack profile email \`${escapeMrkdwn(email.replaceAll('`', "'"))}\` is not an address Gong can be asked about. Check your Gong email with \`/gong-status name@company.com\`.`,
      };
    } else {
      ({ own, checked } = await ownStatus(email, { recheck: job.command.recheck === true, ...context }));
    }
    const team = isAdmin ? await summariseTeam(deps.store) : undefined;
    const view = buildHomeView({
      own,
      ...(team ? { team } : {}),
      ...(deps.teamPageUrl === undefined ? {} : { teamPageUrl: deps.teamPageUrl }),
    });
    await publish(job.userId, view, own);
    return { kind: 'home', checked, answered: true };
  }

  async function publish(userId: string, view: HomeView, own: OwnStatus | { note: string }) {
    try {
      await deps.slack.publishHome(userId, view);
    } catch (error: unknown) {
      if (!(error instanceof SlackApiError) || !error.code.includes('invalid_blocks')) throw error;
      logger.warn('Slack refused the Home tab’s blocks; publishing text', { code: error.code });
      const text =
        'note' in own
          ? own.note
          : `${own.email}: ${own.status === 'OK' ? 'Gong can record your meetings.' : (own.userFacingError ?? 'Gong cannot record your meetings.')}`;
      await deps.slack.publishHome(userId, plainHomeView(text));
    }
  }

  return async (
    job: SlackJob,
    context: { requestId: string; deadline: number },
  ): Promise<SlackJobOutcome> => {
    if (isHomeJob(job)) return publishHome(job, context);
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
          buildErrorMessage(
            context.requestId,
            kind === 'check' || kind === 'self' || kind === 'recheck' ? 'check' : kind,
          ),
        )
        .catch((respondError: unknown) => {
          logger.error('Could not tell the caller about the failure', {
            code: respondError instanceof SlackApiError ? respondError.code : 'unknown',
          });
        });
      throw error;
    }
    // A click replaces the answer it was on, so the fresh one stands where the stale one was.
    await deliver(
      job.responseUrl,
      kind === 'recheck' ? { ...result.message, replace_original: true } : result.message,
    );
    return { kind, checked: result.checked, answered: true };
  };
}
