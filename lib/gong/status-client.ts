import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from 'zod/mini';
import type { FailureCode } from '#lib/check/failures.ts';
import type { CheckFailure } from '#lib/check/report.ts';
import type { CallPriority } from '#lib/gong/pacer.ts';
import { detailOf, errorsOf, explainForbidden, type GongRequester } from '#lib/gong/requester.ts';

export const STATUS_PATH = '/v2/meetings/integration/status';
/** Gong's documented cap on emails per call. */
export const MAX_EMAILS_PER_CALL = 100;
/** The scope Gong's integration-status endpoint needs. */
export const STATUS_SCOPE = 'api:meetings:integration:status';

/** One user as Gong answered, with the id of the Gong request that answered. */
export interface GongUserStatus {
  email: string;
  exists: boolean;
  valid: boolean;
  userFacingError?: string;
  fixUrl?: string;
  helpUrl?: string;
  gongRequestId: string;
  answeredAt: number;
}

export interface GongCheckOutcome {
  statuses: GongUserStatus[];
  failures: CheckFailure[];
}

export interface GongClient {
  /** Asks Gong about up to 100 emails in one paced call (with retries); every email ends in statuses or failures. */
  checkBatch(
    emails: string[],
    options: {
      deadline: number;
      priority?: CallPriority;
      /** Told when the call has left (each attempt). */
      onSent?: () => void;
    },
  ): Promise<GongCheckOutcome>;
  /** About `batches` batches of this priority are coming: get their first call ready now. */
  prepare?(priority?: CallPriority, batches?: number): void;
}

interface GongClientOptions {
  request: GongRequester;
  logger: Logger;
}

const optionalText = z.pipe(
  z.nullish(z.string()),
  z.transform((value) => value ?? undefined),
);
const answerSchema = z.object({
  requestId: z.optional(z.string()),
  users: z.array(
    z.object({
      email: z.string(),
      exists: z.boolean(),
      // Gong may leave `valid` out for users it does not know.
      valid: z.optional(z.boolean()),
      userFacingError: optionalText,
      fixUrl: optionalText,
      helpUrl: optionalText,
    }),
  ),
});
/** A client for Gong's integration-status endpoint that never drops an email. */
export function createGongClient(options: GongClientOptions): GongClient {
  const { logger, request } = options;

  async function checkBatch(
    emails: string[],
    deadline: number,
    priority: CallPriority,
    onSent: (() => void) | undefined,
  ): Promise<GongCheckOutcome> {
    const fail = (code: FailureCode, message: string, retryAfterSeconds?: number): GongCheckOutcome => ({
      statuses: [],
      failures: emails.map((email) => ({
        email,
        code,
        message,
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      })),
    });
    const response = await request({
      method: 'POST',
      path: STATUS_PATH,
      body: { emails },
      deadline,
      priority,
      ...(onSent ? { onSent } : {}),
    });
    if (response.kind === 'failed') return fail(response.code, response.message, response.retryAfterSeconds);

    const { status, body, gongRequestId } = response;
    if (status === 200) return matchAnswer(emails, body, gongRequestId);
    const said = `Gong answered ${status} to POST ${STATUS_PATH} (requestId ${gongRequestId})`;
    const detail = detailOf(body);
    if (status === 401) {
      return fail(
        'GONG_AUTH',
        `${said}: the access key or token was refused, also after re-reading the secret`,
      );
    }
    if (status === 403) {
      return fail(
        'GONG_FORBIDDEN',
        `${said}${detail}: ${explainForbidden(body, { path: STATUS_PATH, scope: STATUS_SCOPE })}`,
      );
    }
    if (status === 400) {
      // A 400 is our bug (Gong rejected what we sent): log it loudly, never retry it.
      logger.error('Gong rejected our request', {
        gongRequestId,
        errors: errorsOf(body),
        emails: emails.length,
      });
      return fail('GONG_BAD_REQUEST', `${said}${detail}`);
    }
    return fail('GONG_UNEXPECTED_STATUS', `${said}${detail}`);
  }

  function matchAnswer(emails: string[], body: unknown, gongRequestId: string): GongCheckOutcome {
    const parsed = answerSchema.safeParse(body);
    if (!parsed.success) {
      logger.error('Gong answered in an unexpected shape', {
        gongRequestId,
        issues: parsed.error.issues.length,
      });
      return {
        statuses: [],
        failures: emails.map((email) => ({
          email,
          code: 'GONG_BAD_RESPONSE',
          message: `Gong's answer to POST ${STATUS_PATH} (requestId ${gongRequestId}) is not in the documented shape`,
        })),
      };
    }
    // Gong documents no order: match by email, never by position.
    const byEmail = new Map(parsed.data.users.map((user) => [user.email.trim().toLowerCase(), user]));
    const answeredAt = Date.now();
    const outcome: GongCheckOutcome = { statuses: [], failures: [] };
    for (const email of emails) {
      const user = byEmail.get(email);
      if (!user) {
        outcome.failures.push({
          email,
          code: 'GONG_INCOMPLETE_ANSWER',
          message: `Gong's answer (requestId ${gongRequestId}) did not include this email`,
        });
        continue;
      }
      outcome.statuses.push({
        email,
        exists: user.exists,
        valid: user.exists && user.valid === true,
        ...(user.userFacingError === undefined ? {} : { userFacingError: user.userFacingError }),
        ...(user.fixUrl === undefined ? {} : { fixUrl: user.fixUrl }),
        ...(user.helpUrl === undefined ? {} : { helpUrl: user.helpUrl }),
        gongRequestId,
        answeredAt,
      });
    }
    return outcome;
  }

  return {
    async checkBatch(emails, { deadline, priority = 'person', onSent }) {
      if (emails.length > MAX_EMAILS_PER_CALL) {
        throw new RangeError(
          `a Gong call takes at most ${MAX_EMAILS_PER_CALL} emails (got ${emails.length})`,
        );
      }
      return checkBatch(emails, deadline, priority, onSent);
    },
    prepare(priority, batches) {
      request.prepare?.(priority, batches);
    },
  };
}
