import type { Context } from 'aws-lambda';
import type { CheckReport } from '#lib/check/report.ts';
import { ValidationError } from '#lib/errors/errors.ts';
import { deadlineOf } from '#lib/invocation/deadline.ts';
import { wireCore } from './wiring/core.ts';
import { createDoorMetrics, withCheckMetrics, withDoorMetrics } from './wiring/metrics.ts';

const metrics = createDoorMetrics('checkStatus');
// Gong's own counts (GongCalls, GongRateLimited, GongBudgetUsed) come from the requester and pacer.
const core = wireCore(undefined, undefined, { metrics: metrics.record });
const checkUsers = withCheckMetrics(core.checkUsers, metrics.record);
/** One invocation checks at most this many entries as sent, duplicates included (README "Who may call"). */
const MAX_ENTRIES = 10_000;

/** Direct invocation by other services: `{emails, source?}` → the check report. */
async function checkStatus(event: unknown, context: Context): Promise<CheckReport> {
  core.logger.addContext(context);
  const { emails, source } = (event ?? {}) as { emails?: unknown; source?: unknown };
  if (source !== undefined && (typeof source !== 'string' || source.length > 100)) {
    throw new ValidationError('"source" must be a string of at most 100 characters');
  }
  if (Array.isArray(emails) && emails.length > MAX_ENTRIES) {
    throw new ValidationError(
      `"emails" has ${emails.length} entries; at most ${MAX_ENTRIES} per invocation, duplicates included`,
      { code: 'EMAILS_TOO_MANY' },
    );
  }
  return checkUsers(emails, {
    source: source ?? 'direct',
    requestId: context.awsRequestId,
    deadline: deadlineOf(context),
  });
}

export const handler = withDoorMetrics(checkStatus, metrics);
