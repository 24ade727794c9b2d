import type { Context } from 'aws-lambda';
import type { CheckReport } from '#lib/check/report.ts';
import { deadlineOf } from '#lib/deadline.ts';
import { ValidationError } from '#lib/errors.ts';
import { wireCore } from './wiring/core.ts';

const core = wireCore();

/** Direct invocation by other services: `{emails, source?}` → the check report. */
export async function handler(event: unknown, context: Context): Promise<CheckReport> {
  core.logger.addContext(context);
  const { emails, source } = (event ?? {}) as { emails?: unknown; source?: unknown };
  if (source !== undefined && (typeof source !== 'string' || source.length > 100)) {
    throw new ValidationError('"source" must be a string of at most 100 characters');
  }
  return core.checkUsers(emails, {
    source: source ?? 'direct',
    requestId: context.awsRequestId,
    deadline: deadlineOf(context),
  });
}
